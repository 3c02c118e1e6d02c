"""Sphinx configuration for the sktrust documentation."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # import sktrust from this checkout
sys.path.insert(0, str(DOCS))

from _gen_api import write_api_rst

import sktrust

# The API reference is rebuilt from each subpackage's __all__ on every build.
write_api_rst(DOCS / "api.rst")

project = "sktrust"
author = "The sktrust developers"
copyright = "The sktrust developers"
version = release = sktrust.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/README.txt"]
html_theme = "alabaster"
html_static_path = []

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    # Only plot_*.py scripts are executed; other files are shown unexecuted.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
}
