"""SAEConceptSuppressor: SAE quality, exact pass-through, class concept suppression."""

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator

from sktrust.unlearning import SAEConceptSuppressor


@pytest.fixture(scope="module")
def suppressor(digits_split, digits_mlp):
    X_fit, y_fit = digits_split[:2]
    return SAEConceptSuppressor(FrozenEstimator(digits_mlp), random_state=0).fit(
        X_fit, y_fit)


def test_sae_reconstructs_the_hidden_layer_sparsely(suppressor):
    assert suppressor.sae_r2_ >= 0.9
    assert suppressor.mean_l0_ <= 0.25 * len(suppressor.latent_max_)


def test_no_suppression_gives_the_net_predictions_exactly(suppressor, digits_split,
                                                          digits_mlp):
    X_te = digits_split[4]
    suppressor.restore()
    np.testing.assert_array_equal(suppressor.predict(X_te), digits_mlp.predict(X_te))
    np.testing.assert_allclose(suppressor.predict_proba(X_te),
                               digits_mlp.predict_proba(X_te), atol=1e-8)


def test_suppressing_a_digit_removes_it_and_keeps_the_others(suppressor, digits_split,
                                                             digits_mlp):
    X_fit, y_fit, _, _, X_te, y_te = digits_split
    is8 = y_te == 8
    before_8 = digits_mlp.score(X_te[is8], y_te[is8])
    before_rest = digits_mlp.score(X_te[~is8], y_te[~is8])
    suppressor.restore().unlearn(X_fit[y_fit == 8])
    assert len(suppressor.suppressed_features_) == suppressor.n_features
    assert suppressor.score(X_te[is8], y_te[is8]) <= 0.2 * before_8
    assert suppressor.score(X_te[~is8], y_te[~is8]) >= before_rest - 0.03
    # the net's weights are untouched: restore() brings the predictions back
    suppressor.restore()
    assert suppressor.score(X_te[is8], y_te[is8]) == before_8


def test_random_latents_do_not_remove_the_digit(suppressor, digits_split, digits_mlp):
    X_te, y_te = digits_split[4:]
    is8 = y_te == 8
    before = digits_mlp.score(X_te[is8], y_te[is8])
    rng = np.random.RandomState(0)
    changes = []
    for _ in range(3):
        suppressor.restore()
        suppressor.suppressed_features_ = rng.choice(
            len(suppressor.latent_max_), size=suppressor.n_features, replace=False)
        changes.append(abs(suppressor.score(X_te[is8], y_te[is8]) - before))
    suppressor.restore()
    assert np.mean(changes) < 0.1


def test_feature_scores_rank_concept_latents(suppressor, digits_split):
    X_fit, y_fit = digits_split[:2]
    suppressor.restore().unlearn(X_fit[y_fit == 3], None, X_fit[y_fit != 3])
    scores = suppressor.feature_scores_
    chosen = suppressor.suppressed_features_
    assert scores[chosen].min() >= np.median(scores)
    suppressor.restore()
