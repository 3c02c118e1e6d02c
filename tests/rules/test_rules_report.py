"""The "Rules" section of the trust report."""

import json

import numpy as np

from sktrust.datasets import load_uci
from sktrust.report import audit, list_sections, load_default_dataset


def test_rules_section_is_registered():
    assert "rules" in list_sections()


def test_rules_section_on_the_embedded_default_data():
    frame = load_default_dataset()
    X, y = frame.drop(columns="diagnosis"), frame["diagnosis"]
    report = audit(X, y, sections=["rules"], cv=3, target_name="diagnosis")
    rules = report["rules"]
    assert rules["n_rules"] >= 1 and rules["n_literals"] >= rules["n_rules"] - 1
    assert rules["program"].startswith("diagnosis(X,")
    acc = rules["accuracy"]
    assert set(acc) == {"foldse", "logistic_regression", "xgboost"}
    # Rules are within reach of the baselines on this easy data set.
    assert acc["foldse"]["accuracy_mean"] >= acc["xgboost"]["accuracy_mean"] - 0.1
    json.dumps(report)


def test_rules_section_on_mixed_types_with_missing_values(tmp_path):
    data = load_uci("credit")
    X, y = data.data, data.target
    assert X.isna().any().any()
    report = audit(X, y, sections=["rules"], cv=3, out=tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "Rules" in page and "FOLD-SE rules" in page
    english = report["rules"]["program_english"]
    assert english.splitlines()[-1].startswith("Otherwise:")
    assert 0.5 <= report["rules"]["accuracy"]["foldse"]["accuracy_mean"] <= 1.0
    assert np.isfinite(report["rules"]["training_accuracy"])


def test_rules_section_multiclass():
    data = load_uci("wine")
    report = audit(data.data, data.target, sections=["rules"], cv=3)
    # One rule per class at least, except the default class.
    assert report["rules"]["n_rules"] >= 2
    assert "rules are tried in order" in report["rules"]["program"]


def test_rules_section_reads_a_csv_column_of_numbers_with_question_marks_as_numbers(tmp_path):
    import pandas as pd

    rng = np.random.RandomState(0)
    n = 200
    age = rng.randint(20, 81, n)
    y = np.where(age > 50, "old", "young")
    cells = age.astype(object)
    cells[rng.rand(n) < 0.05] = "?"
    colour = rng.choice(["red", "blue"], n)
    path = tmp_path / "ages.csv"
    pd.DataFrame({"age": cells, "colour": colour, "label": y}).to_csv(path, index=False)
    data = pd.read_csv(path)
    assert not pd.api.types.is_numeric_dtype(data["age"].dtype)  # text, as read
    rules = audit(data.drop(columns="label"), data["label"], sections=["rules"],
                  cv=3)["rules"]
    # One threshold on age, not one equality literal per age seen.
    assert "age(X,N1), N1" in rules["program"]
    assert "age(X,'" not in rules["program"].replace("age(X,'?')", "")
    assert rules["accuracy"]["foldse"]["accuracy_mean"] >= 0.9
