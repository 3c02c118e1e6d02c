"""Loki: Fréchet-mean prediction over a metric on the label space."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from scipy.sparse.csgraph import shortest_path
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin
from sklearn.utils.validation import check_is_fitted

from sktrust.open_set._common import _PostHocMixin, check_two_classes
from sktrust.utils._sklearn_compat import HasMethods, StrOptions, _fit_context, validate_data

_METRIC_TOL = 1e-9


def check_label_metric(distance):
    """Validate a distance matrix over labels; return it as a float array.

    Raises ``ValueError`` unless ``distance`` is square, finite, non-negative,
    symmetric, zero exactly on the diagonal and satisfies the triangle
    inequality (checked in O(N^3) time).

    Examples
    --------
    >>> from sktrust.open_set import check_label_metric
    >>> check_label_metric([[0, 1], [1, 0]]).shape
    (2, 2)
    """
    D = np.asarray(distance, dtype=float)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"The label distance must be a square matrix; got shape {D.shape}.")
    problems = []
    if not np.all(np.isfinite(D)):
        problems.append("it has NaN or infinite entries")
    elif D.min() < 0:
        problems.append("it has negative entries")
    elif not np.allclose(D, D.T, atol=_METRIC_TOL):
        problems.append("it is not symmetric")
    elif np.any(np.diag(D) != 0):
        problems.append("its diagonal is not zero")
    else:
        off = D + np.eye(len(D))
        if np.any(off <= 0):
            problems.append("two different labels are at distance 0")
        for k in range(len(D)):
            if np.any(D[:, k, None] + D[None, k, :] < D - _METRIC_TOL * (1 + D)):
                problems.append("it violates the triangle inequality")
                break
    if problems:
        raise ValueError(f"The label distance is not a metric: {problems[0]}.")
    return D


def _graph_distance(graph, labels):
    n = len(labels)
    G = np.asarray(graph, dtype=object if np.asarray(graph).dtype.kind in "OUS" else None)
    if G.ndim == 2 and G.shape == (n, n) and G.dtype.kind in "biuf":
        adj = np.asarray(G, dtype=float) != 0
    elif G.ndim == 2 and G.shape[1] == 2:
        index = {label: i for i, label in enumerate(labels.tolist())}
        adj = np.zeros((n, n), dtype=bool)
        for a, b in G.tolist():
            if a not in index or b not in index:
                raise ValueError(f"Edge ({a!r}, {b!r}) names a label not in label_space.")
            adj[index[a], index[b]] = True
    else:
        raise ValueError(
            f"A graph metric needs an ({n}, {n}) adjacency matrix or an (n_edges, 2) "
            f"edge list of labels; got shape {G.shape}."
        )
    adj = adj | adj.T
    np.fill_diagonal(adj, False)
    D = shortest_path(adj.astype(float), method="D", unweighted=True, directed=False)
    if not np.all(np.isfinite(D)):
        raise ValueError("The label graph is disconnected: some labels cannot be reached.")
    return D


class LokiFrechetPredictor(_PostHocMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Predict with the Fréchet mean of the class probabilities over a label metric.

    When labels live in a space with distances (an ordinal scale, a disease
    hierarchy, a taxonomy, label embeddings), Loki replaces the argmax of a
    classifier trained on *some* classes by the label of the whole space
    that minimises the expected squared distance::

        y_hat(x) = argmin_{y in label space} sum_i P_i(x) d(y, lambda_i)^2

    over the observed classes ``lambda_i``. It can predict classes never seen
    in training, and its mistakes land near the truth. With a uniform metric
    (all distances 1) it is exactly the argmax.

    Read more in the :ref:`User Guide <open_set>`.

    Parameters
    ----------
    estimator : classifier with predict_proba, default=None
        ``None`` is ``LogisticRegression(max_iter=1000)``. A model trained
        elsewhere comes in as ``FrozenEstimator(model)``.
    distance : array-like, default=None
        The label metric, read according to ``metric``. ``None`` is the
        uniform metric (Loki then equals the argmax).
    metric : {"matrix", "graph", "embedding"}, default="matrix"
        ``"matrix"``: ``distance`` is an (N, N) distance matrix over
        ``label_space``. ``"graph"``: ``distance`` is an (N, N) adjacency
        matrix or an (n_edges, 2) list of label pairs; the metric is the
        number of hops. ``"embedding"``: ``distance`` is an (N, p) matrix of
        label embeddings; the metric is Euclidean.
    label_space : array-like of shape (N,), default=None
        All labels, in the order of ``distance``. ``None`` is the training
        classes (sorted). Training labels must belong to it.

    Attributes
    ----------
    estimator_ : classifier
    classes_ : ndarray of shape (N,)
        The whole label space: what ``predict`` can return.
    label_space_ : ndarray of shape (N,)
        Same as ``classes_``.
    observed_idx_ : ndarray of shape (K,)
        Positions in ``label_space_`` of the classes seen in training (in the
        column order of ``estimator_.predict_proba``).
    distance_ : ndarray of shape (N, N)
        The label metric.
    sq_dist_ : ndarray of shape (K, N)
        Squared distances from the observed labels to every label.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    .. [1] N. Roberts, X. Li, D. Adila, S. Cromp, T.-H. Huang, J. Zhao and
       F. Sala, "Geometry-Aware Adaptation for Pretrained Models",
       NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sktrust.open_set import LokiFrechetPredictor
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat([0, 4], 50)
    >>> X = (y + rng.normal(scale=0.5, size=100))[:, None]
    >>> labels = np.arange(5)
    >>> D = np.abs(labels[:, None] - labels[None, :])
    >>> loki = LokiFrechetPredictor(distance=D, label_space=labels).fit(X, y)
    >>> loki.predict([[2.0]])  # never seen in training
    array([2])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "distance": ["array-like", None],
        "metric": [StrOptions({"matrix", "graph", "embedding"})],
        "label_space": ["array-like", None],
    }

    def __init__(self, estimator=None, *, distance=None, metric="matrix",
                 label_space=None):
        self.estimator = estimator
        self.distance = distance
        self.metric = metric
        self.label_space = label_space

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit (or copy) the classifier and prepare the label metric.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels from ``label_space``.

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y)
        self._fit_estimator(X, y)
        observed = np.asarray(self.estimator_.classes_)
        check_two_classes(self, np.unique(y))
        labels = observed if self.label_space is None else np.asarray(self.label_space)
        if labels.ndim != 1 or len(np.unique(labels)) != len(labels):
            raise ValueError("label_space must be a 1-D array of distinct labels.")
        position = {label: i for i, label in enumerate(labels.tolist())}
        missing = [c for c in observed.tolist() if c not in position]
        if missing:
            raise ValueError(
                f"Training labels {missing[:10]} are not in label_space; every class "
                "the model was trained on must be one of its labels."
            )
        self.label_space_ = labels
        self.classes_ = labels
        self.observed_idx_ = np.array([position[c] for c in observed.tolist()])
        self.distance_ = self._metric(labels)
        self.sq_dist_ = self.distance_[self.observed_idx_] ** 2
        return self

    def _metric(self, labels):
        n = len(labels)
        if self.distance is None:
            return 1.0 - np.eye(n)
        if self.metric == "graph":
            return _graph_distance(self.distance, labels)
        if self.metric == "embedding":
            E = np.asarray(self.distance, dtype=float)
            if E.ndim != 2 or E.shape[0] != n:
                raise ValueError(
                    f"label embeddings must have shape ({n}, n_dims), one row per "
                    f"label; got {E.shape}."
                )
            return check_label_metric(cdist(E, E))
        D = np.asarray(self.distance, dtype=float)
        if D.shape != (n, n):
            raise ValueError(
                f"distance must be a ({n}, {n}) matrix over the {n} labels of "
                f"label_space; got shape {D.shape}."
            )
        return check_label_metric(D)

    def _frechet(self, X):
        check_is_fitted(self, "sq_dist_")
        X = validate_data(self, X, reset=False)
        return np.asarray(self.estimator_.predict_proba(X)) @ self.sq_dist_

    def decision_function(self, X):
        """Negative Fréchet variance of every label (higher = better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples, N), or (n_samples,) for N = 2
        """
        s = -self._frechet(X)
        return s[:, 1] - s[:, 0] if s.shape[1] == 2 else s

    def predict(self, X):
        """Label of the whole label space minimising the expected squared distance.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Ties go to the first label of ``label_space_``.
        """
        idx = np.argmin(self._frechet(X), axis=1)
        return self.label_space_[idx]

    def expected_squared_distance(self, X, y):
        """Mean squared label distance ``d(y_hat, y)^2``: Loki's error measure.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels from ``label_space_`` (unseen ones allowed).

        Returns
        -------
        error : float
        """
        return float(np.mean(self.label_distance(self.predict(X), y) ** 2))

    def label_distance(self, a, b):
        """Distance between two arrays of labels of ``label_space_``.

        Parameters
        ----------
        a, b : array-like of shape (n,)

        Returns
        -------
        d : ndarray of shape (n,)
        """
        check_is_fitted(self, "distance_")
        return self.distance_[self._index(a), self._index(b)]

    def _index(self, labels):
        position = {label: i for i, label in enumerate(self.label_space_.tolist())}
        labels = np.asarray(labels).tolist()
        bad = [v for v in labels if v not in position]
        if bad:
            raise ValueError(f"Labels {bad[:10]} are not in label_space_.")
        return np.array([position[v] for v in labels], dtype=int)

    def locus(self, observed=None):
        """Labels on a shortest path between two observed labels.

        On a tree metric this is the Steiner subtree of the observed labels:
        the labels Loki can predict for some probability vector. With the
        uniform metric it is the observed set itself.

        Parameters
        ----------
        observed : array-like of labels, default=None
            ``None`` is the classes seen in training.

        Returns
        -------
        labels : ndarray
            In ``label_space_`` order.
        """
        idx = self.observed_idx_ if observed is None else self._index(observed)
        D = self.distance_
        inside = np.zeros(len(D), dtype=bool)
        inside[idx] = True
        for a in idx:
            for b in idx:
                on_path = np.abs(D[a] + D[:, b] - D[a, b]) <= _METRIC_TOL * (1 + D[a, b])
                inside |= on_path
        return self.label_space_[inside]

    def next_class(self, observed=None, n_classes=1):
        """Classes to label next so the locus covers the label space fastest.

        Greedy max-min rule of the Loki code: pick the label farthest from the
        current locus, add it to the observed set, repeat.

        Parameters
        ----------
        observed : array-like of labels, default=None
            ``None`` is the classes seen in training.
        n_classes : int, default=1

        Returns
        -------
        labels : ndarray of shape (n_classes,)
        """
        check_is_fitted(self, "distance_")
        if not isinstance(n_classes, Integral) or n_classes < 1:
            raise ValueError(f"n_classes must be a positive int; got {n_classes!r}.")
        chosen = list(self.label_space_[self.observed_idx_] if observed is None
                      else np.asarray(observed).ravel())
        if not chosen:
            raise ValueError("observed must hold at least one label of label_space_.")
        self._index(chosen)
        picks = []
        for _ in range(int(n_classes)):
            loc = self._index(self.locus(chosen))
            gap = self.distance_[:, loc].min(axis=1)
            gap[self._index(chosen)] = -np.inf
            if not np.isfinite(gap.max()):
                break
            best = self.label_space_[int(np.argmax(gap))]
            picks.append(best)
            chosen.append(best)
        return np.asarray(picks)
