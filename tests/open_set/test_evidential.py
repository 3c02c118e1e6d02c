"""EvidentialClassifier: exact opinion algebra, confusion vs ignorance, open set."""

from itertools import combinations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier

from sktrust.open_set import (
    EvidentialClassifier,
    RBFEvidenceMLP,
    conjunctive_opinion,
    dirichlet_opinion,
    set_belief,
)


def _brute_force_masses(pl):
    """Mass of every subset of classes: prod_{A} pl * prod_{not A} (1 - pl)."""
    k = len(pl)
    subsets = [s for r in range(k + 1) for s in combinations(range(k), r)]
    masses = {}
    for s in subsets:
        inside = np.isin(np.arange(k), s)
        masses[s] = float(np.prod(np.where(inside, pl, 1 - pl)))
    return masses


def test_subset_masses_match_the_closed_forms_for_three_classes():
    rng = np.random.RandomState(0)
    pl = rng.rand(20, 3)
    op = conjunctive_opinion(pl)
    for row in range(20):
        m = _brute_force_masses(pl[row])
        assert sum(m.values()) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(op["ignorance"][row], m[()], atol=1e-12)
        np.testing.assert_allclose(op["belief"][row], [m[(i,)] for i in range(3)],
                                   atol=1e-12)
        multi = sum(v for s, v in m.items() if len(s) >= 2)
        np.testing.assert_allclose(op["confusion"][row], multi, atol=1e-10)
        np.testing.assert_allclose(op["uncertainty"][row], multi + m[()], atol=1e-10)
        top = np.argsort(-pl[row])
        for k in range(1, 4):
            A = set(top[:k].tolist())
            bel = sum(v for s, v in m.items() if s and set(s) <= A)
            mask = np.isin(np.arange(3), top[:k])
            np.testing.assert_allclose(set_belief(pl[row:row + 1], mask)[0], bel,
                                       atol=1e-10)


def test_conjunctive_opinion_does_not_underflow_for_many_classes():
    pl = np.full((2, 200), 0.01)
    pl[0, 0] = 0.999
    op = conjunctive_opinion(pl)
    assert np.all(np.isfinite(op["belief"])) and op["belief"][0, 0] > 0
    assert np.all(op["confusion"] >= 0) and np.all(op["ignorance"] > 0)


def test_bad_plausibility_is_refused():
    with pytest.raises(ValueError, match="plausibility"):
        conjunctive_opinion([[0.5, 1.5]])


def test_dirichlet_opinion_matches_its_definitions():
    rng = np.random.RandomState(0)
    e = rng.exponential(size=(15, 4)) * (rng.rand(15, 4) < 0.7)
    op = dirichlet_opinion(e)
    S = e.sum(1) + 4
    np.testing.assert_allclose(op["belief"], e / S[:, None])
    np.testing.assert_allclose(op["ignorance"], 4 / S)
    np.testing.assert_allclose(op["probability"].sum(1), 1.0)
    np.testing.assert_allclose(op["probability"], op["belief"] + op["ignorance"][:, None] / 4)
    for row in range(15):
        b = op["belief"][row]
        conf = 0.0
        for i in range(4):
            others = [j for j in range(4) if j != i]
            den = sum(b[j] for j in others)
            if den == 0:
                continue
            bal = [1 - abs(b[j] - b[i]) / (b[j] + b[i]) if b[j] + b[i] > 0 else 0
                   for j in others]
            conf += b[i] * sum(b[j] * w for j, w in zip(others, bal)) / den
        assert op["confusion"][row] == pytest.approx(conf, abs=1e-12)


@pytest.fixture(scope="module")
def overlapping_blobs():
    rng = np.random.RandomState(0)
    n = 600
    y = rng.randint(0, 2, n)
    X = np.c_[np.where(y == 1, 1.5, -1.5) + rng.normal(size=n), rng.normal(size=n)]
    clf = EvidentialClassifier(random_state=0).fit(X, y)
    y_over = rng.randint(0, 2, 200)
    overlap = np.c_[np.where(y_over == 1, 0.2, -0.2) + 0.2 * rng.normal(size=200),
                    rng.normal(size=200)]
    y_clean = rng.randint(0, 2, 200)
    clean = np.c_[np.where(y_clean == 1, 3.0, -3.0) + 0.3 * rng.normal(size=200),
                  rng.normal(size=200)]
    return clf, overlap, y_over, clean, y_clean


def test_confusion_concentrates_where_classes_overlap(overlapping_blobs):
    clf, overlap, _, clean, _ = overlapping_blobs
    c_over = clf.opinions(overlap)["confusion"].mean()
    c_clean = clf.opinions(clean)["confusion"].mean()
    assert c_over >= 2 * c_clean
    assert c_over > 0.1


def test_ignorance_concentrates_on_a_far_away_cluster_which_is_rejected(
        overlapping_blobs):
    # Card check: mean ignorance on far points >= 2x in-distribution, and with
    # tau = 0.5 the far points are rejected (>= 80%), in-distribution rows not
    # (<= 10%). Far points lie in two directions, beyond the data on both axes.
    clf, overlap, y_over, clean, _ = overlapping_blobs
    rng = np.random.RandomState(1)
    y_in = rng.randint(0, 2, 300)
    inside = np.c_[np.where(y_in == 1, 1.5, -1.5) + rng.normal(size=300),
                   rng.normal(size=300)]
    far = np.vstack([[8.0, 8.0] + rng.normal(size=(150, 2)),
                     [0.0, -10.0] + rng.normal(size=(150, 2))])
    i_in = clf.opinions(inside)["ignorance"]
    i_far = clf.opinions(far)["ignorance"]
    assert i_far.mean() >= 2 * i_in.mean()
    assert clf.belief_threshold == 0.5
    assert (~clf.predict_set(far).any(1)).mean() >= 0.8
    assert (~clf.predict_set(inside).any(1)).mean() <= 0.1
    # The same points with the paper's linear head: evidence grows far away.
    linear = EvidentialClassifier(head="linear", random_state=0)
    rng0 = np.random.RandomState(0)
    y = rng0.randint(0, 2, 600)
    X = np.c_[np.where(y == 1, 1.5, -1.5) + rng0.normal(size=600), rng0.normal(size=600)]
    linear.fit(X, y)
    assert linear.opinions(far)["ignorance"].mean() < 0.5 * i_far.mean()


def test_predict_set_keeps_both_classes_in_the_overlap_and_one_elsewhere(
        overlapping_blobs):
    from sklearn.base import clone

    clf, overlap, y_over, clean, y_clean = overlapping_blobs
    sets = clf.predict_set(overlap)
    coverage = sets[np.arange(len(y_over)), y_over].mean()
    top1 = np.mean(clf.predict(overlap) == y_over)
    assert coverage >= top1 + 0.1  # sets recover part of what the argmax misses
    assert 1 < sets.sum(1).mean() <= 2
    clean_sets = clf.predict_set(clean)
    assert clean_sets.sum(1).mean() <= 1.1
    assert clean_sets[np.arange(len(y_clean)), y_clean].mean() >= 0.9
    # A stricter threshold asks for more belief: larger sets, more coverage.
    strict = clone(clf)
    strict.__dict__.update({k: v for k, v in vars(clf).items() if k.endswith("_")})
    strict.set_params(belief_threshold=0.7)
    strict_sets = strict.predict_set(overlap)
    assert strict_sets.sum(1).mean() >= sets.sum(1).mean()
    assert strict_sets[np.arange(len(y_over)), y_over].mean() >= 0.9


@pytest.fixture(scope="module")
def digits_0_to_4(request):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    known = y < 5
    train = known & (np.random.RandomState(0).rand(len(y)) < 0.7)
    test = ~train
    clf = EvidentialClassifier(random_state=0).fit(X[train], y[train])
    return clf, X, y, known, train, test


def test_known_unknown_auroc_is_close_to_a_softmax_mlp(digits_0_to_4):
    clf, X, y, known, train, test = digits_0_to_4
    auroc = roc_auc_score(known[test], clf.score_samples(X[test]))
    mlp = MLPClassifier((64,), max_iter=300, random_state=0).fit(X[train], y[train])
    auroc_msp = roc_auc_score(known[test], mlp.predict_proba(X[test]).max(1))
    assert auroc >= auroc_msp - 0.02
    assert clf.score(X[test & known], y[test & known]) >= 0.97


def test_unknown_digits_carry_more_ignorance_and_confusion(digits_0_to_4):
    clf, X, y, known, train, test = digits_0_to_4
    op_known = clf.opinions(X[test & known])
    op_unknown = clf.opinions(X[~known])
    assert op_unknown["ignorance"].mean() >= 2 * op_known["ignorance"].mean()
    assert op_unknown["confusion"].mean() >= 2 * op_known["confusion"].mean()
    rejected = ~clf.predict_set(X[~known]).any(1)
    rejected_known = ~clf.predict_set(X[test & known]).any(1)
    assert rejected.mean() > 3 * rejected_known.mean()


def test_ignorance_flags_uniform_noise_images(digits_0_to_4):
    # Card check: digits 0-4 known, uniform-noise images unknown, ignorance
    # AUROC >= 0.95 (a linear evidence head on a ReLU net scores about 0.5).
    clf, X, y, known, train, test = digits_0_to_4
    noise = np.random.RandomState(0).rand(300, 64)
    ignorance = clf.opinions(np.vstack([X[test & known], noise]))["ignorance"]
    is_noise = np.r_[np.zeros((test & known).sum()), np.ones(300)]
    assert roc_auc_score(is_noise, ignorance) >= 0.95


def test_auto_threshold_keeps_known_rate_and_predicts_unknown_label(digits_0_to_4):
    clf, X, y, known, train, test = digits_0_to_4
    from sklearn.base import clone

    from sktrust.metrics import open_set_report

    auto = clone(clf).set_params(threshold="auto", known_rate=0.9, unknown_label=99)
    auto.fit(X[train], y[train])
    assert auto.predict_known(X[train]).mean() == pytest.approx(0.9, abs=0.01)
    pred = auto.predict(X[test])
    y_true = np.where(known, y, 99)[test]
    assert set(np.unique(pred)) <= set(range(5)) | {99}
    rep = open_set_report(y_true, auto.score_samples(X[test]), unknown_label=99,
                          y_pred=pred)
    assert rep["open_set_accuracy"] > known[test].mean()


def test_predict_proba_sums_to_one_and_agrees_with_predict(digits_0_to_4):
    clf, X, y, known, train, test = digits_0_to_4
    proba = clf.predict_proba(X[:50])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X[:50]))
    np.testing.assert_array_equal(clf.decision_function(X[:50]).argmax(1), proba.argmax(1))


def test_any_torch_module_can_be_plugged_in(iris):
    torch = pytest.importorskip("torch")

    class Linear(torch.nn.Module):
        def __init__(self, n_features, n_outputs, scale=1.0):
            super().__init__()
            self.lin = torch.nn.Linear(n_features, n_outputs)

        def forward(self, x):
            return self.lin(x)

    X, y = iris
    clf = EvidentialClassifier(Linear, module_kwargs={"scale": 2.0}, max_epochs=50,
                               lr=0.05, random_state=0).fit(X, y)
    assert isinstance(clf.net_.module_, Linear)
    assert clf.score(X, y) > 0.8
    inst = EvidentialClassifier(Linear(4, 3), max_epochs=5, random_state=0).fit(X, y)
    assert inst.predict_set(X).shape == (150, 3)


def test_bad_inputs_are_refused(iris):
    X, y = iris
    with pytest.raises(ValueError, match="unknown_label=0 is one of the training"):
        EvidentialClassifier(unknown_label=0, threshold="auto", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="belief_threshold"):
        EvidentialClassifier(belief_threshold=1.5).fit(X, y)
    with pytest.raises(ValueError, match="one class"):
        EvidentialClassifier(max_epochs=1).fit(X[:10], y[:10])
    with pytest.raises(ValueError, match="NaN"):
        EvidentialClassifier(max_epochs=1).fit(np.where(X > 7, np.nan, X), y)


def test_dirichlet_opinion_refuses_bad_evidence():
    for bad in (np.ones(3), -np.ones((2, 3)), np.full((2, 3), np.nan)):
        with pytest.raises(ValueError, match="evidence must be"):
            dirichlet_opinion(bad)


def test_malformed_nets_are_refused_before_training(iris):
    torch = pytest.importorskip("torch")

    class FiveOutputs(torch.nn.Module):
        def __init__(self, n_features, n_outputs):
            super().__init__()
            self.lin = torch.nn.Linear(n_features, 5)

        def forward(self, x):
            return self.lin(x)

    X, y = iris
    # Five outputs for three classes used to train and predict silently.
    with pytest.raises(ValueError, match="3 outputs, one per class"):
        EvidentialClassifier(FiveOutputs, max_epochs=1).fit(X, y)
    for sizes in [(0,), (-3,), ("a",), (8, 0)]:  # (0,) trained a zero-width layer
        with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive ints"):
            EvidentialClassifier(hidden_layer_sizes=sizes, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="module_kwargs"):
        EvidentialClassifier(module_kwargs={"scale": 2.0}, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="needs at least one hidden layer"):
        EvidentialClassifier(hidden_layer_sizes=(), max_epochs=1).fit(X, y)  # head="rbf"
    linear = EvidentialClassifier(hidden_layer_sizes=(), head="linear", max_epochs=1).fit(X, y)
    assert linear.predict_proba(X).shape == (len(X), 3)  # a linear evidence model is fine
    for bad in (0.0, -1.0, np.inf):  # 0 used to fail inside math.log ("math domain error")
        with pytest.raises(ValueError, match="max_evidence must be a positive finite number"):
            EvidentialClassifier(RBFEvidenceMLP, module_kwargs={"max_evidence": bad},
                                 max_epochs=1).fit(X, y)
