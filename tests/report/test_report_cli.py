"""End-to-end tests of ``sktrust report`` (command line)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sktrust.report._cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_module(*args):
    """``python -m sktrust ...`` in a fresh process that sees this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p)
    return subprocess.run(
        [sys.executable, "-m", "sktrust", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env=env,
    )


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default report (breast cancer, 5 folds), run once for the module."""
    out = tmp_path_factory.mktemp("default_report")
    code = main(["report", "--out", str(out), "--no-progress"])
    report = json.loads((out / "report.json").read_text())
    html = (out / "report.html").read_text()
    return code, report, html


def test_default_run_exit_code_and_files(default_run):
    code, report, html = default_run
    assert code == 0
    assert report["meta"]["dataset"] == "breast cancer (Wisconsin)"
    assert report["meta"]["target"] == "diagnosis"
    builtins = ["data_profile", "models", "calibration", "shap_importance"]
    # Family sections may slot in between; the built-ins keep their order.
    assert [s for s in report["meta"]["sections"] if s in builtins] == builtins
    for key in report["meta"]["sections"]:
        assert "error" not in report[key], report[key]
    assert html.startswith("<!DOCTYPE html>")
    assert '<img src="data:image/png;base64,' in html
    assert "<script" not in html and "http://" not in html


def test_default_run_data_profile(default_run):
    profile = default_run[1]["data_profile"]
    assert profile["n_rows"] == 569
    assert profile["n_features"] == 30
    assert profile["n_numeric"] == 30 and profile["n_categorical"] == 0
    assert profile["n_missing_cells"] == 0
    balance = profile["class_balance"]
    assert balance["benign"]["count"] == 357
    assert balance["malignant"]["count"] == 212
    assert len(profile["columns"]) == 30


def test_default_run_models(default_run):
    models = default_run[1]["models"]
    assert models["n_splits"] == 5
    assert models["best_model"] in {"logistic_regression", "xgboost"}
    for name in ("logistic_regression", "xgboost"):
        result = models["results"][name]
        assert len(result["folds"]) == 5
        assert result["accuracy_mean"] > 0.9
        assert 0.9 < result["roc_auc_mean"] <= 1.0


def test_default_run_calibration(default_run):
    calibration = default_run[1]["calibration"]
    for name in ("logistic_regression", "xgboost"):
        result = calibration["results"][name]
        assert 0.0 <= result["ece"] <= 1.0
        assert 0.0 <= result["brier_score"] < 0.1


def test_default_run_shap(default_run):
    report = default_run[1]
    shap = report["shap_importance"]
    assert shap["model"] == report["models"]["best_model"]
    importance = shap["importance"]
    assert set(importance) == set(report["data_profile"]["columns"])
    values = np.array(list(importance.values()))
    assert np.all(values >= 0) and values.max() > 0
    assert list(values) == sorted(values, reverse=True)
    assert shap["n_rows_explained"] == 200


@pytest.fixture
def mixed_csv(tmp_path):
    """A CSV with numbers, strings, booleans, missing values and a string target."""
    rng = np.random.default_rng(0)
    n = 240
    frame = pd.DataFrame(
        {
            "age": rng.normal(50, 10, n).round(1),
            "city": rng.choice(["paris", "rome", "oslo"], n),
            "smoker": rng.choice([True, False], n),
            "income": rng.normal(3, 1, n),
        }
    )
    frame.loc[rng.choice(n, 25, replace=False), "age"] = np.nan
    frame.loc[rng.choice(n, 20, replace=False), "city"] = None
    signal = (frame["age"].fillna(50) - 50) / 5 + 2.0 * (frame["city"] == "rome")
    frame["outcome"] = np.where(signal + rng.normal(0, 1, n) > 0.5, "sick", "well")
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return path


def test_mixed_type_csv(mixed_csv, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["report", str(mixed_csv), "--out", str(out), "--cv", "3", "--shap-rows", "50"])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.strip() == str(out / "report.html")
    from sktrust.report import list_sections

    n = len(list_sections())
    assert "sktrust report" in captured.err and f"{n}/{n}" in captured.err  # progress
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["target"] == "outcome"  # the last column
    assert report["meta"]["classes"] == ["sick", "well"]
    profile = report["data_profile"]
    assert profile["columns"]["city"]["type"] == "categorical"
    assert profile["columns"]["age"]["n_missing"] == 25
    assert profile["n_missing_cells"] == 45
    for name in ("logistic_regression", "xgboost"):
        assert report["models"]["results"][name]["accuracy_mean"] > 0.6
    importance = report["shap_importance"]["importance"]
    assert set(importance) == {"age", "city", "smoker", "income"}
    assert report["shap_importance"]["n_rows_explained"] == 50
    assert max(importance, key=importance.get) in {"age", "city"}
    # Every family's section works on mixed types with missing values.
    for key in report["meta"]["sections"]:
        assert "error" not in report[key], (key, report[key])


def test_explicit_target_column(mixed_csv, tmp_path):
    out = tmp_path / "out"
    code = main(
        ["report", str(mixed_csv), "--target", "city", "--out", str(out)]
        + ["--cv", "2", "--sections", "data_profile", "--no-progress"]
    )
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["classes"] == ["oslo", "paris", "rome"]
    assert report["data_profile"]["n_dropped_missing_target"] == 20
    assert report["data_profile"]["n_rows"] == 220
    assert "outcome" in report["data_profile"]["columns"]


def _write(path, text):
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


BAD_INPUTS = {
    "missing_file": (lambda d: [str(d / "nope.csv")], "file not found"),
    "unknown_target": (
        lambda d: [str(_write(d / "a.csv", "x,y\n1,a\n2,b\n")), "--target", "foo"],
        "target column 'foo' not in CSV; columns are 'x', 'y'",
    ),
    "one_class": (
        lambda d: [str(_write(d / "a.csv", "x,y\n" + "1,a\n" * 10))],
        "only one class",
    ),
    "too_many_classes": (
        lambda d: [str(_write(d / "a.csv", "x,y\n" + "".join(f"{i},{i}\n" for i in range(60))))],
        "has 60 distinct values",
    ),
    "empty_csv": (lambda d: [str(_write(d / "a.csv", ""))], "is empty"),
    "header_only": (lambda d: [str(_write(d / "a.csv", "x,y\n"))], "no data rows"),
    "unparseable": (
        lambda d: [str(_write(d / "a.csv", 'x,y\n1,2\n3,4,5,6\n"open\n'))],
        "pandas cannot parse",
    ),
    "target_only": (
        lambda d: [str(_write(d / "a.csv", "y\na\nb\na\nb\n"))],
        "at least one feature column",
    ),
    "single_row_class": (
        lambda d: [str(_write(d / "a.csv", "x,y\n1,a\n2,a\n3,b\n"))],
        "single row",
    ),
    "unknown_section": (lambda d: ["--sections", "nope"], "unknown section"),
    "bad_cv": (lambda d: ["--cv", "1"], "--cv"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_one_line_exit_2(case, tmp_path, capsys):
    make_args, expected = BAD_INPUTS[case]
    args = ["report", *make_args(tmp_path), "--out", str(tmp_path / "o")]
    code = main(args + ["--no-progress"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("sktrust report: error: ")
    assert expected in lines[0]
    assert "Traceback" not in captured.err
    assert not (tmp_path / "o" / "report.html").exists()


def test_bad_input_subprocess_has_no_traceback(tmp_path):
    proc = _run_module("report", str(tmp_path / "missing.csv"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"sktrust report: error: file not found: {str(tmp_path / 'missing.csv')!r}"
    ]


def test_help_via_python_m():
    proc = _run_module("report", "--help")
    assert proc.returncode == 0
    assert "--target" in proc.stdout and "--out" in proc.stdout
    assert "breast cancer" in proc.stdout


def test_no_command_is_an_error(capsys):
    assert main([]) == 2
    assert capsys.readouterr().err.strip() == (
        "sktrust: error: choose a command: report (see --help)"
    )
