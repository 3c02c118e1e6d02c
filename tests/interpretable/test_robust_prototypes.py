"""Robust prototype networks: the certificate is a true lower bound."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from sktrust.interpretable import RobustRBFClassifier, RobustStableCBCClassifier


@pytest.fixture(scope="module")
def digits_split():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def models(digits_split):
    Xtr, _, ytr, _ = digits_split
    kw = dict(random_state=0)  # the defaults: 20 components, 40 epochs
    return {
        "cbc_robust": RobustStableCBCClassifier(**kw).fit(Xtr, ytr),
        "cbc_margin": RobustStableCBCClassifier(loss="margin", **kw).fit(Xtr, ytr),
        "rbf_robust": RobustRBFClassifier(**kw).fit(Xtr, ytr),
    }


def _pgd_flips(clf, X, radius, steps=100, module=None):
    """L2 PGD on the score margin inside a per-row ball; True where the class flips.

    ``module`` maps the attacked point to class scores (default: the whole net).
    """
    module = clf.net_.module_ if module is None else module
    clf.net_.module_.eval()
    x0 = torch.as_tensor(X, dtype=torch.float32)
    r = torch.as_tensor(radius, dtype=torch.float32)[:, None]
    with torch.no_grad():
        cls = module(x0).argmax(dim=1)
    # Random start on the sphere, then normalised-gradient ascent.
    gen = torch.Generator().manual_seed(0)
    delta = torch.randn(x0.shape, generator=gen)
    delta = delta / delta.norm(dim=1, keepdim=True) * r * 0.5
    step = 2.5 * r / steps
    flipped = torch.zeros(len(X), dtype=torch.bool)
    for _ in range(steps):
        delta.requires_grad_(True)
        scores = module(x0 + delta)
        own = scores.gather(1, cls[:, None])[:, 0]
        other = scores.scatter(1, cls[:, None], -torch.inf).amax(dim=1)
        (grad,) = torch.autograd.grad((other - own).sum(), delta)
        with torch.no_grad():
            delta = delta + step * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
            norm = delta.norm(dim=1, keepdim=True)
            delta = delta * torch.clamp(r / norm.clamp_min(1e-12), max=1.0)
            flipped |= module(x0 + delta).argmax(dim=1) != cls
    return flipped.numpy()


@pytest.mark.parametrize("name", ["cbc_robust", "rbf_robust"])
def test_no_attack_inside_the_certified_radius_flips_a_prediction(name, models, digits_split):
    clf = models[name]
    _, Xte, _, yte = digits_split
    correct = clf.predict(Xte) == yte
    X = Xte[correct][:150]
    radius = clf.certify(X)
    assert np.all(radius >= 0) and np.median(radius) > 0.1
    assert not _pgd_flips(clf, X, 0.95 * radius).any()
    # The attack is not toothless: far outside the certificate it does flip rows.
    assert _pgd_flips(clf, X, 2.0 + 4.0 * radius).mean() > 0.5


def test_certificate_is_the_root_of_the_worst_case_bound(models, digits_split):
    clf = models["cbc_robust"]
    module = clf.net_.module_
    x = torch.as_tensor(digits_split[1][:20], dtype=torch.float32)
    with torch.no_grad():
        d, _ = module.concept_scores(x)
        P, M, R = module.affine()
        Dp, Nm = d @ P, d @ M
        pred = module(x).argmax(dim=1)
        for n in range(len(x)):
            i = int(pred[n])
            for j in range(Dp.shape[1]):
                if j == i:
                    continue
                a = -(Nm[n, i] + Dp[n, j])
                b = R[i] - R[j]
                c = Dp[n, i] + Nm[n, j]
                t = float(-(b + torch.sqrt(b**2 - 4 * a * c)) / (2 * a))

                def gap(t, n=n, i=i, j=j):
                    return float((Dp[n, i] / t - Nm[n, i] * t + R[i])
                                 - (Dp[n, j] * t - Nm[n, j] / t + R[j]))

                assert abs(gap(t)) < 1e-5
                assert all(gap(s) > -1e-7 for s in np.linspace(1.0, t, 7)[:-1])


def test_reasoning_is_a_probability_and_scores_are_the_rbf_form(models, digits_split):
    clf = models["cbc_robust"]
    rho = clf.reasoning_probabilities_
    np.testing.assert_allclose(rho.sum(axis=0), 1.0, atol=1e-6)
    module = clf.net_.module_
    x = torch.as_tensor(digits_split[1][:30], dtype=torch.float32)
    with torch.no_grad():
        d, p = module.concept_scores(x)
    K = clf.n_components
    d, p = d.numpy(), p.numpy()
    expected = d @ (rho[:K] - rho[K:]) + rho[K:].sum(axis=0)
    np.testing.assert_allclose(p, expected, atol=1e-5)
    # Equivalently sum_k d_k rho+ + (1 - d_k) rho-: a probability.
    np.testing.assert_allclose(p, d @ rho[:K] + (1 - d) @ rho[K:], atol=1e-5)
    assert p.min() >= 0 and p.max() <= 1
    np.testing.assert_allclose(clf.class_scores(digits_split[1][:30]), p, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(digits_split[1][:30]).sum(axis=1), 1.0)


def test_robust_loss_certifies_more_than_the_margin_loss(models, digits_split):
    _, Xte, _, yte = digits_split
    certified = {n: np.mean(models[n].certify(Xte, yte) >= 0.5)
                 for n in ("cbc_robust", "cbc_margin")}
    assert certified["cbc_robust"] > certified["cbc_margin"]
    for name in ("cbc_robust", "cbc_margin", "rbf_robust"):
        assert models[name].score(Xte, yte) >= 0.85
    # Certifying the true label gives a negative radius exactly on the errors.
    r = models["cbc_robust"].certify(Xte, yte)
    wrong = models["cbc_robust"].predict(Xte) != yte
    assert np.all(r[wrong] <= 1e-6) and np.all(r[~wrong] >= -1e-6)


@pytest.mark.parametrize("cls", [RobustStableCBCClassifier, RobustRBFClassifier])
def test_bad_inputs_raise_clear_errors(cls):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="at least 2 classes"):
        cls(max_epochs=1).fit(X, np.zeros(40))
    clf = cls(n_components=4, max_epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        clf.certify(X[:, :2])
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.certify(X, np.full(40, 7))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_nan)
    with pytest.raises(ValueError):
        clf.predict(X[:0])


def test_accuracy_on_digits_is_within_three_points_of_an_mlp(models, digits_split):
    from sklearn.neural_network import MLPClassifier

    Xtr, Xte, ytr, yte = digits_split
    mlp = MLPClassifier(max_iter=1000, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    assert mlp > 0.95  # the reference itself is a good model
    for name in ("cbc_robust", "rbf_robust"):
        assert models[name].score(Xte, yte) >= mlp - 0.03, name


@pytest.mark.parametrize("name", ["cbc_robust", "rbf_robust"])
def test_explain_splits_the_deciding_concept_score_over_the_components(name, models,
                                                                        digits_split):
    clf = models[name]
    X = digits_split[1][:40]
    exp = clf.explain_components(X)
    scores = clf.class_scores(X)
    pred = clf.predict(X)
    np.testing.assert_array_equal(exp.label, pred)
    cls = np.searchsorted(clf.classes_, pred)
    # The deciding concept belongs to the class and carries its score ...
    assert np.all(clf.concept_class_[exp.concept] == cls)
    np.testing.assert_allclose(exp.score, scores[np.arange(len(X)), cls], atol=1e-5)
    # ... which the components' contributions add up to exactly.
    np.testing.assert_allclose(exp.values.sum(axis=1) + exp.base_values, exp.score, atol=1e-5)
    np.testing.assert_allclose(exp.values, exp.positive + exp.negative)
    np.testing.assert_allclose(exp.data, clf.net_.module_.detections(
        torch.as_tensor(X, dtype=torch.float32)).detach().numpy(), atol=1e-6)
    assert np.all(exp.positive >= 0) and exp.values.shape == (40, clf.n_components)
    if name == "cbc_robust":
        # Agreement of present and of absent components: both are probabilities.
        assert np.all(exp.negative >= 0) and np.all(exp.score <= 1 + 1e-6)
    else:
        assert np.all(exp.negative <= 0)
    # Explaining another label reads that class's concept instead.
    other = clf.classes_[(cls + 1) % len(clf.classes_)]
    exp_other = clf.explain_components(X, other)
    np.testing.assert_allclose(exp_other.score, scores[np.arange(len(X)), (cls + 1) % 10],
                               atol=1e-5)
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.explain_components(X, np.full(len(X), 99))


def test_explanations_point_at_prototypes_of_the_predicted_class(models, digits_split):
    """The component an explanation ranks first is a prototype of that class: most
    training digits nearest to it carry the predicted label."""
    Xtr, Xte, ytr, yte = digits_split
    for name in ("cbc_robust", "rbf_robust"):
        clf = models[name]
        W = clf.components_
        nearest = np.argmin(((Xtr[:, None] - W[None]) ** 2).sum(-1), axis=1)
        owner = np.array([np.bincount(ytr[nearest == k], minlength=10).argmax()
                          if np.any(nearest == k) else -1 for k in range(len(W))])
        correct = clf.predict(Xte) == yte
        exp = clf.explain_components(Xte[correct])
        top = np.argmax(exp.positive, axis=1)
        assert np.mean(owner[top] == exp.label) >= 0.9, name


def _xor(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)


def _extractor():
    return torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))


@pytest.fixture(scope="module")
def deep_models():
    X, y = _xor(400, 0)
    kw = dict(n_components=2, random_state=0)  # 40 epochs
    return {
        "shallow": RobustStableCBCClassifier(**kw).fit(X, y),
        "cbc": RobustStableCBCClassifier(feature_extractor=_extractor(), **kw).fit(X, y),
        "rbf": RobustRBFClassifier(feature_extractor=_extractor(), **kw).fit(X, y),
    }


def test_feature_extractor_finds_prototypes_the_input_space_lacks(deep_models):
    """XOR with one prototype per class: no input-space prototype separates it, a
    learned feature space does (the deep variant)."""
    Xt, yt = _xor(1000, 1)
    assert deep_models["shallow"].score(Xt, yt) <= 0.8
    for name in ("cbc", "rbf"):
        clf = deep_models[name]
        assert clf.score(Xt, yt) >= 0.93, name
        assert clf.components_.shape == (2, 8) and clf.n_prototype_features_ == 8
        exp = clf.explain_components(Xt[:20])
        np.testing.assert_allclose(exp.values.sum(1) + exp.base_values, exp.score, atol=1e-5)


@pytest.mark.parametrize("name", ["cbc", "rbf"])
def test_deep_certificate_holds_in_feature_space(name, deep_models):
    clf = deep_models[name]
    module = clf.net_.module_
    X, y = _xor(300, 2)
    X = X[clf.predict(X) == y][:100]
    radius = clf.certify(X)
    with torch.no_grad():
        Z = module.embed(torch.as_tensor(X, dtype=torch.float32)).numpy()

    class Head(torch.nn.Module):  # the prototype head alone, fed with features
        def forward(self, z):
            d = torch.exp(-torch.sqrt(((z[:, None] - module.components[None]) ** 2).sum(-1)
                                      + 1e-12) / module.abs_sigma())
            P, M, R = module.affine()
            p = d @ P - d @ M + R
            return p.reshape(len(z), -1, clf.n_reasoning_per_class).amax(-1)

    with torch.no_grad():
        head_pred = Head()(torch.as_tensor(Z)).argmax(1).numpy()
    np.testing.assert_array_equal(clf.classes_[head_pred], clf.predict(X))
    assert np.all(radius > 0)
    assert not _pgd_flips(clf, Z, 0.95 * radius, module=Head()).any()
    assert _pgd_flips(clf, Z, 2.0 + 4.0 * radius, module=Head()).mean() > 0.5


def test_deep_model_round_trips_through_pickle(deep_models):
    import pickle

    clf = deep_models["cbc"]
    X, _ = _xor(50, 3)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(back.class_scores(X), clf.class_scores(X), atol=1e-6)
    np.testing.assert_allclose(back.certify(X), clf.certify(X), atol=1e-6)


def test_the_feature_extractor_passed_in_is_not_trained_in_place():
    X, y = _xor(100, 4)
    ext = _extractor()
    before = [p.detach().clone() for p in ext.parameters()]
    clf = RobustRBFClassifier(n_components=2, feature_extractor=ext, max_epochs=3,
                              random_state=0).fit(X, y)
    assert all(torch.equal(a, b) for a, b in zip(before, ext.parameters()))
    trained = clf.net_.module_.extractor
    assert any(not torch.equal(a, b) for a, b in zip(before, trained.parameters()))


def test_a_feature_extractor_that_cannot_take_X_raises_a_clear_error():
    X, y = _xor(60, 5)

    class Pair(torch.nn.Module):  # returns a tuple, as torch.nn.LSTM does
        def forward(self, x):
            return x, x

    cases = {
        r"cannot take X: .*shape \(60, 2\)": torch.nn.Linear(3, 4),  # wrong input width
        "returned a tuple": Pair(),
        r"returned a tensor of shape \(4,\)": _Sum(),
    }
    for message, extractor in cases.items():
        for cls in (RobustStableCBCClassifier, RobustRBFClassifier):
            with pytest.raises(ValueError, match=message):
                cls(n_components=2, feature_extractor=extractor, max_epochs=1).fit(X, y)


class _Sum(torch.nn.Module):
    """Sums over rows: one output, whatever the batch size."""

    def forward(self, x):
        return x.sum(0).repeat(2)


def test_unknown_labels_to_explain_are_named(models, digits_split):
    X = digits_split[1][:3]
    with pytest.raises(ValueError, match=r"labels \[99\] that were not seen in fit"):
        models["cbc_robust"].explain_components(X, [1, 99, 2])
    with pytest.raises(ValueError, match=r"labels \[99\] that were not seen in fit"):
        models["cbc_robust"].certify(X, [1, 99, 2])
