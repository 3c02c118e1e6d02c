"""The "Explanations" report section on the embedded data and a mixed-type CSV."""

import numpy as np
import pandas as pd
import pytest

from sktrust.explain._report import encode_mixed_frame
from sktrust.report import audit, list_sections, load_default_dataset


def test_section_is_registered():
    assert "explanations" in list_sections()


def test_mixed_frame_keeps_one_numeric_column_per_raw_column():
    df = pd.DataFrame({"num": [1.0, np.nan, 3.0, 4.0], "txt_num": ["1", "?", "2.5", "3"],
                       "cat": ["a", "b", None, "a"], "flag": [True, False, True, True]})
    out = encode_mixed_frame(df)
    assert list(out.columns) == ["num", "txt_num", "cat", "flag"]
    assert np.isfinite(out.to_numpy()).all()
    np.testing.assert_allclose(out["txt_num"], [1.0, 2.5, 2.5, 3.0])  # "?" -> median
    assert out["cat"].nunique() == 3  # a, b and missing
    assert df["txt_num"].tolist() == ["1", "?", "2.5", "3"]  # caller's frame untouched


def test_section_on_the_embedded_default():
    df = load_default_dataset()
    target = df.columns[-1]
    out = audit(df.drop(columns=target), df[target], sections=["explanations"])["explanations"]
    # radius, perimeter and area are near-collinear: one aspect.
    assert any({"mean radius", "mean perimeter", "mean area"} <= set(m)
               for m in out["aspects"].values())
    assert out["correlation"]["shap vs permutation"]["spearman"] > 0.5
    assert len(out["importance"]) == len(out["selected"])


def test_section_on_a_mixed_type_csv_with_missing_tokens(tmp_path):
    rng = np.random.RandomState(0)
    n = 240
    color = rng.choice(["red", "green", "blue"], n)
    x = rng.normal(size=n)
    y = np.where((x > 0) ^ (color == "red"), "yes", "no")
    age = np.round(rng.uniform(20, 80, n)).astype(object)
    age[rng.rand(n) < 0.1] = "?"
    frame = pd.DataFrame({"x": x, "x_copy": 2 * x + 0.001 * rng.normal(size=n),
                          "color": color, "age": age, "label": y})
    frame.loc[:5, "color"] = None
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    data = pd.read_csv(path)
    out = audit(data.drop(columns="label"), data["label"],
                sections=["explanations"])["explanations"]
    assert out["forward_selection"] is True
    assert ["x", "x_copy"] in out["aspects"].values()
    top = max(out["importance"], key=lambda r: r["shap"])["aspect"]
    assert top in {"x+x_copy", "color"}


@pytest.mark.parametrize("classes", [3])
def test_section_handles_several_classes(iris, classes):
    X, y = iris
    out = audit(pd.DataFrame(X, columns=list("abcd")), y,
                sections=["explanations"])["explanations"]
    assert out["n_rows"] == 150 and len(out["selected"]) >= 1


def test_section_on_a_csv_with_an_empty_and_a_constant_column():
    rng = np.random.RandomState(0)
    n = 90
    x = rng.normal(size=n)
    # An empty and a constant column first: scipy's spearmanr gives one NaN then.
    frame = pd.DataFrame({"empty": np.nan, "constant": 1.0, "x": x,
                          "x_copy": x + 0.001 * rng.normal(size=n), "noise": rng.normal(size=n)})
    y = np.where(x > 0, "yes", "no")
    out = audit(frame, y, sections=["explanations"])["explanations"]
    assert ["x", "x_copy"] in out["aspects"].values()
    assert out["selected"]
