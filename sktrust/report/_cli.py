"""``sktrust report [CSV] [--target COL] [--out DIR]``: the command line."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import logging
import sys
from pathlib import Path

from sktrust.report._audit import DEFAULT_OUT, ReportInputError, generate_report

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit code 2)."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def build_parser():
    """The ``sktrust`` argument parser with its ``report`` subcommand."""
    parser = _OneLineParser(
        prog="sktrust",
        description="sktrust: trustworthy machine learning for scikit-learn.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="audit a classification data set and write an HTML/JSON trust report",
        description=(
            "Audit a classification data set: data profile, cross-validated "
            "baseline models (logistic regression, XGBoost), calibration (ECE, "
            "reliability diagram) and global SHAP importance. Writes a "
            "self-contained report.html and a report.json. Without CSV, audits "
            "the embedded breast cancer data set."
        ),
    )
    report.add_argument(
        "csv",
        nargs="?",
        metavar="CSV",
        help="CSV file with a header row (default: embedded breast cancer data)",
    )
    report.add_argument("--target", metavar="COL", help="target column (default: the last column)")
    report.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_OUT,
        help=f"output folder (default: {DEFAULT_OUT})",
    )
    report.add_argument(
        "--cv",
        type=_positive_int(2),
        default=5,
        metavar="N",
        help="cross-validation folds (default: 5)",
    )
    report.add_argument(
        "--shap-rows",
        type=_positive_int(1),
        default=200,
        metavar="N",
        help="rows explained by SHAP (default: 200)",
    )
    report.add_argument(
        "--sections",
        metavar="KEYS",
        help="comma-separated section keys to run (default: all)",
    )
    report.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed for folds, models and subsamples (default: 0)",
    )
    report.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    report.add_argument("-v", "--verbose", action="store_true", help="log what each step does")
    return parser


def main(argv=None):
    """Run the ``sktrust`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments after the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    code : int
        0 on success, 2 for bad input (one line on stderr), 1 if the report
        itself failed.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    if args.command != "report":
        sys.stderr.write("sktrust: error: choose a command: report (see --help)\n")
        return EXIT_BAD_INPUT

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(name)s: %(levelname)s: %(message)s",
    )
    import matplotlib

    matplotlib.use("Agg")

    sections = None
    if args.sections:
        sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    try:
        generate_report(
            args.csv,
            target=args.target,
            out=args.out,
            cv=args.cv,
            shap_rows=args.shap_rows,
            sections=sections,
            random_state=args.random_state,
            progress=not args.no_progress,
        )
    except (ReportInputError, OSError) as exc:
        sys.stderr.write(f"sktrust report: error: {_one_line(exc)}\n")
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        sys.stderr.write(
            f"sktrust report: internal error: {type(exc).__name__}: {_one_line(exc)}\n"
        )
        return EXIT_FAILED
    print(Path(args.out) / "report.html")
    return EXIT_OK


def _one_line(exc):
    return " ".join(str(exc).split())
