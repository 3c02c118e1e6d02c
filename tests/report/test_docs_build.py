"""The documentation builds, and its API reference follows each ``__all__``."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
GENERATED = ("_build", "generated", "auto_examples", "api.rst", "sg_execution_times.rst")


def _load_gen_api():
    sys.path.insert(0, str(DOCS))
    try:
        import _gen_api
    finally:
        sys.path.remove(str(DOCS))
    return _gen_api


def test_api_rst_lists_every_public_name():
    import sktrust.metrics
    import sktrust.report

    text = _load_gen_api().api_rst()
    for module in (sktrust.report, sktrust.metrics):
        assert f".. currentmodule:: {module.__name__}\n" in text
        for name in module.__all__:
            assert f"\n   {name}\n" in text, name
    assert text.index("sktrust.metrics") < text.index("sktrust.report")


def test_sphinx_build_without_running_examples(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("sphinx_gallery")
    # Build a copy, so the test never writes into the checkout.
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns(*GENERATED))
    # Only the report's examples: other families' galleries are not under test.
    (tmp_path / "examples").mkdir()
    shutil.copy(REPO_ROOT / "examples" / "README.txt", tmp_path / "examples")
    shutil.copytree(REPO_ROOT / "examples" / "report", tmp_path / "examples" / "report")
    env = dict(os.environ)
    env["SKTRUST_API_MODULES"] = "sktrust.metrics,sktrust.report"
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-D", "plot_gallery=0"]
        + [str(tmp_path / "docs"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for page in ("index", "getting_started", "report", "api", "user_guide/index"):
        assert (out / f"{page}.html").exists(), page
    assert (out / "generated" / "sktrust.report.audit.html").exists()
    assert (out / "auto_examples" / "report" / "plot_trust_report.html").exists()
    assert "register_section" in (out / "report.html").read_text()
    # Warnings from the report's own pages and docstrings would show here.
    markers = ["sktrust.report", "sktrust/report", "plot_trust_report"] + [
        f"/docs/{page}.rst"
        for page in ("index", "getting_started", "report", "api", "user_guide/index")
    ]
    own = [
        line
        for line in proc.stderr.splitlines()
        if "WARNING" in line and any(m in line for m in markers)
    ]
    assert not own, own
