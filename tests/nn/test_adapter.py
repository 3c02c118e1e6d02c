"""The torch adapter reproduces every backend's own outputs."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktrust.nn import MLP, as_torch_model, make_classifier_net, make_regressor_net


def _skorch_clf(X, y, criterion=None):
    net = make_classifier_net(MLP, module__n_features=X.shape[1],
                              module__n_outputs=len(np.unique(y)),
                              module__hidden_layer_sizes=(8,), max_epochs=3,
                              criterion=criterion, device="cpu")
    return net.fit(X.astype(np.float32), y.astype(np.int64))


class _SoftmaxMLP(torch.nn.Module):
    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.inner = MLP(n_features, n_outputs, hidden_layer_sizes=(8,))

    def forward(self, x):
        return torch.softmax(self.inner(x), dim=1)


@pytest.mark.parametrize("dataset", ["iris", "breast_cancer"])
@pytest.mark.parametrize(
    "make",
    [
        lambda X, y: MLPClassifier((6,), max_iter=30, random_state=0).fit(X, y),
        lambda X, y: MLPClassifier((5, 4), activation="tanh", max_iter=30,
                                   random_state=0).fit(X, y),
        lambda X, y: LogisticRegression(max_iter=300).fit(X, y),
        lambda X, y: make_pipeline(StandardScaler(), MLPClassifier(
            (6,), max_iter=30, random_state=0)).fit(X, y),
        lambda X, y: _skorch_clf(X, y),
    ],
    ids=["mlp", "mlp-tanh-2layers", "logreg", "pipeline-mlp", "skorch-ce"],
)
def test_softmax_of_logits_reproduces_predict_proba(make, dataset, request):
    X, y = request.getfixturevalue(dataset)
    est = make(X, y)
    model = as_torch_model(est)
    logits = model.logits(X.astype(np.float32) if "skorch" in str(type(est)) else X)
    proba = torch.softmax(logits, dim=1).cpu().numpy()
    expected = est.predict_proba(X.astype(np.float32) if hasattr(est, "module_")
                                 else X)
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    assert logits.shape == (len(X), len(np.unique(y)))


def test_skorch_nll_module_output_is_turned_into_log_probabilities(iris):
    X, y = iris
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(_SoftmaxMLP, module__n_features=4, module__n_outputs=3,
                              max_epochs=3, train_split=None, verbose=0)
    net.fit(X.astype(np.float32), y.astype(np.int64))
    model = as_torch_model(net, features="inner.body", head="inner.head")
    proba = torch.softmax(model.logits(X.astype(np.float32)), dim=1).numpy()
    np.testing.assert_allclose(proba, net.predict_proba(X.astype(np.float32)),
                               atol=1e-5)
    assert model.features(X.astype(np.float32)).shape == (150, 8)
    assert model.head.out_features == 3


@pytest.mark.parametrize(
    "make",
    [
        lambda X, y: MLPRegressor(hidden_layer_sizes=(6,), max_iter=50,
                                  random_state=0).fit(X, y),
        lambda X, y: Ridge().fit(X, y),
        lambda X, y: LinearRegression().fit(X, np.column_stack([y, -y])),
        lambda X, y: make_regressor_net(MLP, module__n_features=X.shape[1],
                                        module__n_outputs=1, max_epochs=2,
                                        device="cpu").fit(
            X.astype(np.float32), y.astype(np.float32).reshape(-1, 1)),
    ],
    ids=["mlp-regressor", "ridge", "linear-2-targets", "skorch-regressor"],
)
def test_regressor_outputs_equal_predict(make, iris):
    X, _ = iris
    y = X[:, 0] * 0.5 - X[:, 2]
    est = make(X[:, 1:], y)
    Xin = X[:, 1:].astype(np.float32) if hasattr(est, "module_") else X[:, 1:]
    out = as_torch_model(est).logits(Xin).cpu().numpy()
    np.testing.assert_allclose(out.reshape(np.shape(est.predict(Xin))),
                               est.predict(Xin), atol=1e-5)


def test_write_back_round_trips_an_sklearn_mlp_exactly(iris):
    X, y = iris
    clf = MLPClassifier((7, 5), max_iter=20, random_state=0).fit(X, y)
    coefs = [c.copy() for c in clf.coefs_]
    intercepts = [b.copy() for b in clf.intercepts_]
    as_torch_model(clf).write_back()
    for a, b in zip(coefs + intercepts, clf.coefs_ + clf.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_write_back_carries_edits_into_predictions(iris):
    X, y = iris
    clf = LogisticRegression(max_iter=300).fit(X, y)
    model = as_torch_model(clf)
    with torch.no_grad():
        model.head.weight.mul_(0.0)
        model.head.bias.copy_(torch.tensor([0.0, 5.0, 0.0], dtype=model.dtype))
    model.write_back()
    assert np.all(clf.predict(X) == 1)


def test_loss_matches_sklearn_log_loss(iris):
    from sklearn.metrics import log_loss

    X, y = iris
    clf = MLPClassifier((6,), max_iter=30, random_state=0).fit(X, y)
    loss = as_torch_model(clf).loss(X, y).item()
    assert loss == pytest.approx(log_loss(y, clf.predict_proba(X)), rel=1e-9)
    per_row = as_torch_model(clf).loss(X, y, reduction="none")
    assert per_row.shape == (150,)


def test_features_and_head_compose_to_logits(breast_cancer):
    X, y = breast_cancer
    clf = MLPClassifier((9,), max_iter=30, random_state=0).fit(X, y)
    model = as_torch_model(clf)
    feats = model.features(X)
    assert feats.shape == (len(X), 9)
    with torch.no_grad():
        z = model.head(torch.as_tensor(feats, dtype=model.dtype)).numpy()[:, 0]
    np.testing.assert_allclose(z, model.logits(X).numpy()[:, 1], atol=1e-10)


def test_unknown_labels_and_unsupported_models_raise(iris):
    X, y = iris
    from sklearn.ensemble import RandomForestClassifier

    clf = LogisticRegression(max_iter=300).fit(X, y)
    with pytest.raises(ValueError, match="unknown to the model"):
        as_torch_model(clf).loss(X[:3], [0, 1, 7])
    rf = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="does not support RandomForestClassifier"):
        as_torch_model(rf)


def test_one_vs_rest_linear_model_is_refused_by_its_own_name(iris):
    from sklearn.svm import LinearSVC

    X, y = iris
    with pytest.raises(TypeError, match="LinearSVC is one-vs-rest"):
        as_torch_model(LinearSVC().fit(X, y))
