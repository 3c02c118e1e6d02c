"""Command-line entry point: ``sktrust report`` / ``python -m sktrust report``."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import sys


def main(argv=None):
    from sktrust.report._cli import main as _main

    return _main(argv)


if __name__ == "__main__":
    sys.exit(main())
