"""LocalFunctionApproximationExplainer: closed forms, a peer library, no free lunch."""

import numpy as np
import pytest
import shap
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier

from sktrust.explain import LocalFunctionApproximationExplainer as LFA
from sktrust.explain._lfa import GRADIENT_METHODS, METHODS


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8))
    y = (X[:, 0] - X[:, 1] + X[:, 2] * X[:, 3] > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def linear(data):
    X, y = data
    return LogisticRegression().fit(X, y)


@pytest.fixture(scope="module")
def mlp(data):
    X, y = data
    return MLPClassifier((16,), max_iter=300, random_state=0).fit(X, y)


# Which closed form each method recovers on a linear logit w.x + c (baseline b).
_LINEAR_TARGET = {
    "lime": "w*(x-b)", "kernel_shap": "w*(x-b)", "occlusion": "w*(x-b)",
    "integrated_gradients": "w*(x-b)", "grad_x_input": "w*x",
    "c_lime": "w", "smoothgrad": "w", "vanilla_gradients": "w",
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("baseline", ["zero", "mean"])
def test_each_method_recovers_its_closed_form_on_a_linear_logit(method, baseline, data,
                                                                 linear):
    X, _ = data
    exp = LFA(linear, method=method, baseline=baseline, output="log_odds", n_perturb=300,
              random_state=0).fit(X)
    x = X[:4]
    w, b = linear.coef_[0], exp.baseline_
    forms = {"w*(x-b)": w * (x - b), "w*x": w * x, "w": np.broadcast_to(w, x.shape)}
    values = exp.explain(x).values
    np.testing.assert_allclose(values, forms[_LINEAR_TARGET[method]], atol=1e-8)
    # The check can fail: every other closed form that differs from the
    # expected one (with a zero baseline w*x and w*(x-b) coincide) is rejected.
    expected = forms[_LINEAR_TARGET[method]]
    for other in forms.values():
        if np.abs(other - expected).max() > 1e-2:
            assert np.abs(values - other).max() > 1e-2


def test_integrated_gradients_equal_w_times_x_minus_an_explicit_baseline(data, linear):
    X, _ = data
    b = np.linspace(-1, 1, 8)
    exp = LFA(linear, method="integrated_gradients", baseline=b, output="log_odds",
              random_state=0).fit(X)
    out = exp.explain(X[:5])
    np.testing.assert_allclose(out.values, linear.coef_[0] * (X[:5] - b), atol=1e-10)
    # Completeness: values + base add up to the logit, and base is f(b).
    np.testing.assert_allclose(out.base_values, linear.decision_function(b[None])[0] *
                               np.ones(5), atol=1e-8)
    assert exp.gradient_source_ == "torch"


def test_kernel_shap_matches_shap_kernel_explainer(data, mlp):
    X, _ = data
    exp = LFA(mlp, method="kernel_shap", n_perturb=2048, random_state=0).fit(X)
    values = exp.explain(X[:5]).values
    peer = shap.KernelExplainer(lambda Z: mlp.predict_proba(Z)[:, 1], np.zeros((1, 8)))
    ref = peer.shap_values(X[:5], nsamples=2048, silent=True)
    np.testing.assert_allclose(values, ref, atol=1e-6)


def test_sampled_kernel_shap_is_close_to_exact_and_efficient(data, mlp):
    X, _ = data
    exact = LFA(mlp, method="kernel_shap", n_perturb=2048, random_state=0).fit(X)
    sampled = LFA(mlp, method="kernel_shap", n_perturb=200, random_state=0).fit(X)
    e, s = exact.explain(X[:5]), sampled.explain(X[:5])
    fx = mlp.predict_proba(X[:5])[:, 1]
    np.testing.assert_allclose(s.values.sum(axis=1) + s.base_values, fx, atol=1e-10)
    corr = np.corrcoef(e.values.ravel(), s.values.ravel())[0, 1]
    assert corr > 0.95


def test_smoothgrad_is_the_mean_gradient_on_shared_noise(data, mlp):
    import torch

    X, _ = data
    exp = LFA(mlp, method="smoothgrad", n_perturb=64, random_state=3).fit(X)
    values = exp.explain(X[:1]).values[0]
    rng = np.random.default_rng(exp.seed_)
    noisy = X[0] + rng.normal(scale=0.1, size=(64, 8))
    x = torch.tensor(noisy, requires_grad=True)
    from sktrust.nn import as_torch_model

    p = torch.softmax(as_torch_model(mlp).logits_tensor(x), dim=1)[:, 1]
    (grad,) = torch.autograd.grad(p.sum(), x)
    np.testing.assert_allclose(values, grad.numpy().mean(axis=0), atol=1e-6)


def test_finite_differences_match_torch_gradients(data, mlp):
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, _ = data
    # A pipeline with a pre-step is not differentiated through torch.
    pipe = make_pipeline(FunctionTransformer(), FrozenEstimator(mlp))
    pipe.fit(X, None)
    fd = LFA(pipe, method="vanilla_gradients").fit(X)
    torch_exp = LFA(mlp, method="vanilla_gradients").fit(X)
    assert fd.gradient_source_ == "finite_differences"
    np.testing.assert_allclose(fd.explain(X[:3]).values, torch_exp.explain(X[:3]).values,
                               atol=1e-6)


def test_no_free_lunch_each_method_wins_on_its_own_neighbourhood(data, mlp):
    X, _ = data
    rows = X[:15]
    loss = {m: {nb: LFA(mlp, method=m, n_perturb=500, random_state=0).fit(X)
                .local_fidelity(rows, nb).mean() for nb in ("c_lime", "lime")}
            for m in ("c_lime", "lime", "kernel_shap")}
    # Gaussian neighbourhood: C-LIME beats the mask-based methods ...
    assert loss["c_lime"]["c_lime"] < loss["lime"]["c_lime"]
    assert loss["c_lime"]["c_lime"] < loss["kernel_shap"]["c_lime"]
    # ... and on LIME's mask neighbourhood the ranking flips.
    assert loss["lime"]["lime"] < loss["c_lime"]["lime"]


def test_local_fidelity_accepts_a_custom_sampler_and_is_zero_for_a_linear_model(data):
    X, _ = data
    y = X @ np.arange(8.0)
    lin = LinearRegression().fit(X, y)

    def sampler(x, n, rng):
        return x + rng.uniform(-2, 2, size=(n, len(x))), np.ones(n)

    for method in ("c_lime", "vanilla_gradients", "kernel_shap"):
        exp = LFA(lin, method=method, n_perturb=100, random_state=0).fit(X)
        assert exp.output_ == "prediction"
        assert exp.local_fidelity(X[:3], sampler).max() < 1e-12
    with pytest.raises(ValueError, match="neighbourhood must be one of"):
        exp.local_fidelity(X[:3], "gaussian")


def test_multiclass_explains_the_predicted_class_by_default(iris):
    X, y = iris
    rf = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    exp = LFA(rf, method="occlusion").fit(X)
    out = exp.explain(X[[0, 60, 120]])
    pred = rf.predict_proba(X[[0, 60, 120]])
    np.testing.assert_allclose(out.values.sum(axis=1) + out.base_values, pred.max(axis=1))
    target = LFA(rf, method="occlusion", target=2).fit(X).explain(X[[0]])
    np.testing.assert_allclose(target.values.sum() + target.base_values[0], pred[0, 2])


@pytest.mark.parametrize("method", sorted(GRADIENT_METHODS | {"lime"}))
def test_explanations_are_reproducible_with_random_state(method, data, mlp):
    X, _ = data
    a = LFA(mlp, method=method, n_perturb=50, random_state=1).fit(X).explain(X[:2])
    b = LFA(mlp, method=method, n_perturb=50, random_state=1).fit(X).explain(X[:2])
    np.testing.assert_array_equal(a.values, b.values)


def test_bad_inputs_raise_clear_errors(data, linear):
    X, y = data
    with pytest.raises(ValueError, match="not fitted"):
        LFA(LogisticRegression()).fit(X)
    with pytest.raises(ValueError, match="baseline must be"):
        LFA(linear, baseline=[0.0, 1.0]).fit(X)
    with pytest.raises(ValueError, match="target=7 is not a class"):
        LFA(linear, target=7).fit(X)
    exp = LFA(linear).fit(X)
    with pytest.raises(ValueError, match="X has 3 features"):
        exp.explain(X[:2, :3])
    X_nan = X[:2].copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        exp.explain(X_nan)
    with pytest.raises(ValueError):
        exp.explain(X[:0])
    with pytest.raises(ValueError, match="method"):
        LFA(linear, method="deeplift").fit(X)


def test_integrated_gradients_is_the_monte_carlo_path_integral(data, mlp):
    import torch

    from sktrust.nn import as_torch_model

    X, _ = data
    b = X.mean(axis=0)
    exp = LFA(mlp, method="integrated_gradients", baseline="mean", n_perturb=128,
              random_state=5).fit(X)
    values = exp.explain(X[:1]).values[0]
    alpha = np.random.default_rng(exp.seed_).uniform(0.0, 1.0, size=128)
    path = torch.tensor(b + alpha[:, None] * (X[0] - b), requires_grad=True)
    p = torch.softmax(as_torch_model(mlp).logits_tensor(path), dim=1)[:, 1]
    (grad,) = torch.autograd.grad(p.sum(), path)
    np.testing.assert_allclose(values, (X[0] - b) * grad.numpy().mean(axis=0), atol=1e-10)
    # Completeness holds up to the Monte-Carlo error of 128 random points (~6% here).
    fx, fb = mlp.predict_proba(np.vstack([X[:1], b[None]]))[:, 1]
    assert abs(values.sum() - (fx - fb)) < 0.15 * abs(fx - fb)


# -- user-supplied neighbourhoods (the ``sampler`` parameter) ------------------


def _builtin_like_samplers(explainer_sigma=0.1, width=1.0):
    """Samplers drawing exactly what the built-in neighbourhoods draw (zero baseline)."""
    from sktrust.explain._lfa import _shapley_kernel_masks

    def lime(x, n, rng):
        Z = rng.binomial(1, 0.5, size=(n, len(x))).astype(float)
        Xt = 0.0 + Z * (x - 0.0)
        logw = -np.sum((Xt - x) ** 2, axis=1) / width**2
        return Xt, Z, np.exp(logw - logw.max())

    def kernel_shap(x, n, rng):
        Z, w = _shapley_kernel_masks(len(x), n, rng)
        return 0.0 + Z * (x - 0.0), Z, w

    def gaussian(x, n, rng):
        xi = rng.normal(scale=explainer_sigma, size=(n, len(x)))
        return x + xi, xi, np.ones(n)

    return {"lime": lime, "kernel_shap": kernel_shap, "c_lime": gaussian,
            "smoothgrad": gaussian}


@pytest.mark.parametrize("method", ["lime", "kernel_shap", "c_lime", "smoothgrad"])
def test_a_sampler_equal_to_the_built_in_one_reproduces_it_exactly(method, data, mlp):
    X, _ = data
    sampler = _builtin_like_samplers()[method]
    # n_perturb=100 < 2**8 - 2: KernelSHAP samples its coalitions from the rng too.
    built_in = LFA(mlp, method=method, n_perturb=100, random_state=3).fit(X).explain(X[:4])
    custom = (LFA(mlp, method=method, n_perturb=100, sampler=sampler, random_state=3)
              .fit(X).explain(X[:4]))
    np.testing.assert_array_equal(custom.values, built_in.values)
    np.testing.assert_array_equal(custom.base_values, built_in.base_values)
    # A different neighbourhood gives a different explanation.
    other = (LFA(mlp, method=method, n_perturb=100, sampler=sampler, random_state=4)
             .fit(X).explain(X[:4]))
    assert not np.allclose(other.values, built_in.values)


def test_lime_on_the_one_feature_off_neighbourhood_is_occlusion(data, mlp):
    X, _ = data
    d = X.shape[1]

    def one_off(x, n, rng):
        # The all-on mask and the d masks with one feature removed (baseline 0):
        # d + 1 points for d + 1 coefficients, so g interpolates f and
        # v_i = f(x) - f(x without i), occlusion's closed form.
        Z = np.vstack([np.ones(d), 1.0 - np.eye(d)])
        return Z * x, Z, np.ones(d + 1)

    lime = LFA(mlp, method="lime", sampler=one_off).fit(X).explain(X[:5])
    occlusion = LFA(mlp, method="occlusion").fit(X).explain(X[:5])
    np.testing.assert_allclose(lime.values, occlusion.values, atol=1e-10)


def test_smoothgrad_on_a_zero_width_sampler_is_the_vanilla_gradient(data, mlp):
    X, _ = data

    def point(x, n, rng):
        return np.repeat(x[None], n, axis=0), np.zeros((n, len(x))), rng.uniform(size=n)

    smooth = LFA(mlp, method="smoothgrad", n_perturb=7, sampler=point).fit(X).explain(X[:5])
    vanilla = LFA(mlp, method="vanilla_gradients").fit(X).explain(X[:5])
    np.testing.assert_allclose(smooth.values, vanilla.values, rtol=1e-12, atol=1e-15)


def test_c_lime_with_a_weighted_box_sampler_recovers_a_linear_model(data):
    X, _ = data
    w_true = np.arange(8.0) - 3.0
    lin = LinearRegression().fit(X, X @ w_true + 2.0)

    def box(x, n, rng):
        xi = rng.uniform(-3, 3, size=(n, len(x)))
        return x + xi, xi, rng.uniform(0.1, 1.0, size=n)

    exp = LFA(lin, method="c_lime", n_perturb=50, sampler=box, random_state=0).fit(X)
    np.testing.assert_allclose(exp.explain(X[:3]).values, np.tile(lin.coef_, (3, 1)),
                               atol=1e-9)
    # The sampler's form is accepted by local_fidelity too; g = f, so the loss is 0.
    assert exp.local_fidelity(X[:3], box).max() < 1e-12


def test_bad_samplers_raise_clear_errors(data, linear):
    X, _ = data

    def good(x, n, rng):
        return x + rng.normal(size=(n, len(x))), np.zeros((n, len(x))), np.ones(n)

    with pytest.raises(ValueError, match="fixed neighbourhood"):
        LFA(linear, method="occlusion", sampler=good).fit(X)
    with pytest.raises(ValueError, match="sampler"):
        LFA(linear, method="c_lime", sampler="gaussian").fit(X)
    bad = {
        "tuple": lambda x, n, rng: (x[None], np.ones(1)),
        "X_tilde of shape": lambda x, n, rng: (x, x, np.ones(1)),
        "Z of shape": lambda x, n, rng: (x[None], x[None, :2], np.ones(1)),
        "NaN": lambda x, n, rng: (x[None] * np.nan, x[None], np.ones(1)),
        "non-negative": lambda x, n, rng: (x[None], x[None], -np.ones(1)),
    }
    for message, sampler in bad.items():
        exp = LFA(linear, method="c_lime", sampler=sampler).fit(X)
        with pytest.raises(ValueError, match=message):
            exp.explain(X[:1])


def test_kernel_shap_on_one_feature_is_the_whole_difference_to_the_baseline(data):
    # One feature: efficiency alone gives phi = f(x) - f(b); no coalition to sample.
    X, y = data
    lr = LogisticRegression().fit(X[:, :1], y)
    exp = LFA(lr, method="kernel_shap", baseline="mean", n_perturb=10).fit(X[:, :1])
    out = exp.explain(X[:4, :1])
    p = lr.predict_proba(X[:4, :1])[:, 1]
    pb = lr.predict_proba(exp.baseline_[None])[0, 1]
    np.testing.assert_allclose(out.values[:, 0], p - pb, atol=1e-12)
    np.testing.assert_allclose(out.base_values, pb, atol=1e-12)


def test_local_fidelity_rejects_bad_budgets_and_bad_sampler_output(data, linear):
    X, _ = data
    exp = LFA(linear, method="c_lime", n_perturb=50, random_state=0).fit(X)
    with pytest.raises(ValueError, match="n_perturb must be a positive integer"):
        exp.local_fidelity(X[:2], n_perturb=0)
    with pytest.raises(ValueError, match="must return"):
        exp.local_fidelity(X[:2], lambda x, n, rng: np.zeros(3))
    with pytest.raises(ValueError, match=r"expected \(m, 8\)"):
        exp.local_fidelity(X[:2], lambda x, n, rng: (np.zeros((n, 3)), np.ones(n)))
    with pytest.raises(ValueError, match="non-negative"):
        exp.local_fidelity(X[:2], lambda x, n, rng: (np.tile(x, (n, 1)), -np.ones(n)))


def test_models_fitted_on_dataframes_get_their_column_names_back(breast_cancer):
    # A pandas pipeline is called with a DataFrame: no "X does not have valid
    # feature names" warning, and the same numbers as the model fitted on arrays.
    import warnings

    import pandas as pd
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sktrust.explain import ShapExplainer, TopKSurrogateExplainer

    X, y = breast_cancer
    X, y = X[:200, :6], y[:200]
    df = pd.DataFrame(X, columns=[f"c{j}" for j in range(6)])
    named = make_pipeline(StandardScaler(), LogisticRegression()).fit(df, y)
    plain = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*valid feature names")
        for method in ("kernel_shap", "vanilla_gradients"):
            got = LFA(named, method=method, n_perturb=64, random_state=0).fit(df).explain(
                df[:3]).values
            ref = LFA(plain, method=method, n_perturb=64, random_state=0).fit(X).explain(
                X[:3]).values
            np.testing.assert_allclose(got, ref, atol=1e-12)
        # The function shap's permutation explainer calls (on arrays).
        got = ShapExplainer(named, method="permutation").fit(df)._model_fn()(X[:3])
        np.testing.assert_allclose(got, plain.predict_proba(X[:3])[:, 1], atol=1e-12)
        top = TopKSurrogateExplainer(named, k=2, random_state=0).fit(df, y)
        ref = TopKSurrogateExplainer(plain, k=2, random_state=0).fit(X, y)
        np.testing.assert_array_equal(top.top_k_features_, ref.top_k_features_)
        assert top.fidelity_ == ref.fidelity_


def test_sampler_output_is_checked_alike_by_explain_and_local_fidelity(data, linear):
    # One checker for both: the same messages, Z read only where it is used.
    X, _ = data
    exp = LFA(linear, method="c_lime", n_perturb=20, random_state=0).fit(X)

    def short_weights(x, n, rng):
        return np.tile(x, (n, 1)), np.zeros((n, len(x))), np.ones(n - 1)

    with pytest.raises(ValueError, match=r"weights of shape \(19,\); expected .*\(20,\)"):
        exp.local_fidelity(X[:1], short_weights)
    with pytest.raises(ValueError, match=r"weights of shape \(19,\); expected .*\(20,\)"):
        LFA(linear, method="c_lime", n_perturb=20, sampler=short_weights).fit(X).explain(X[:1])
    with pytest.raises(ValueError, match="must return a tuple .* got tuple of length 4"):
        exp.local_fidelity(X[:1], lambda x, n, rng: (x, x, x, x))

    def no_z(x, n, rng):  # local_fidelity does not read Z; the explainer needs it
        return np.tile(x, (n, 1)), None, np.ones(n)

    assert exp.local_fidelity(X[:1], no_z).shape == (1,)
    with pytest.raises(ValueError, match="Z of shape"):
        LFA(linear, method="c_lime", n_perturb=20, sampler=no_z).fit(X).explain(X[:1])
