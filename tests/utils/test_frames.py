"""numeric_text_columns: which text columns of a raw table hold numbers."""

import numpy as np
import pandas as pd

from sktrust.utils import numeric_text_columns


def test_text_numbers_with_missing_tokens_are_numeric_and_categories_are_not():
    X = pd.DataFrame({
        "age": ["61", "?", " 47 ", "", "NA", "52.5"],   # numbers, tokens for missing
        "sex": ["m", "f", "?", "m", "f", "m"],           # categories
        "bp": [80.0, np.nan, 70.0, 60.0, 90.0, 85.0],    # already numeric
        "flag": [True, False, True, True, False, True],  # boolean
        "empty": ["?", "?", "", "NA", "nan", "?"],       # nothing but missing tokens
        "code": ["1", "2", "3", "4", "5", "x"],          # 5 of 6 numbers: below 0.9
    })
    np.testing.assert_array_equal(numeric_text_columns(X),
                                  [True, False, False, False, False, False])
    np.testing.assert_array_equal(numeric_text_columns(X, min_share=0.8)[-1], True)


def test_the_reports_read_a_csv_column_of_numbers_with_question_marks_as_numbers():
    from sktrust.explain._report import encode_mixed_frame

    X = pd.DataFrame({"age": ["61", "?", "47"], "sex": ["m", "f", "?"]})
    out = encode_mixed_frame(X)
    # age: numbers, the "?" median-imputed; sex: one code per category.
    np.testing.assert_allclose(out["age"], [61.0, 54.0, 47.0])
    assert out["sex"].nunique() == 3
