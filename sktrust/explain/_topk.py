"""Top-k surrogate: probe a black box for its top-k features, imitate it with a small model."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn import config_context
from sklearn.base import TransformerMixin, clone, is_classifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from sktrust.base import BaseExplainer
from sktrust.explain._model import model_input
from sktrust.utils._sklearn_compat import HasMethods, Interval, StrOptions, validate_data
from sktrust.utils._validation import check_non_empty, check_random_state_seed

PROBES = ("permutation", "sensitivity", "gradient", "embedding")
DEFAULT_PROBES = ("permutation", "sensitivity", "gradient")
# Candidates kept by the cheap screen, per top-k feature (and at least this many).
_CANDIDATES_PER_K = 5
_MIN_CANDIDATES = 100
# Held-out rows used by the perturbation probes (fidelity uses all of them).
_MAX_PROBE_ROWS = 256
# Cells (rows x features) of perturbed copies sent to the black box in one call.
_PROBE_BATCH_CELLS = 5_000_000


def _total_variation(P, Q):
    """Mean over rows of half the L1 distance between probability rows."""
    return 0.5 * np.abs(P - Q).sum(axis=-1).mean(axis=-1)


def _rank(scores):
    """Rank 0 = largest score (ties broken by position)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(len(scores))
    return ranks


class TopKSurrogateExplainer(TransformerMixin, BaseExplainer):
    """Probe a black box for its top-k features and imitate it with a small model.

    After Karim et al. [1]_: rank the features a trained black box depends on
    (permutation importance, sensitivity to mean imputation and, for torch-
    adaptable models, input gradients, combined by average rank), keep the
    top ``k``, and fit an interpretable surrogate on them to the black box's
    *predictions*. ``fidelity_`` says how well the surrogate imitates the
    black box on held-out rows; ``rules()`` gives its global rules and
    ``explain_local`` the rule behind each prediction with a counterfactual.

    To scale to thousands of columns, a cheap screen first scores every
    feature (input gradients when available, else the black box's own
    ``feature_importances_`` / ``coef_``, else the absolute correlation of
    each column with the black box's predicted probabilities); only the top
    ``n_candidates`` go through the perturbation probes.

    Read more in the :ref:`User Guide <explain>`.

    Parameters
    ----------
    black_box : classifier, default=None
        Model to explain. A fitted model (or ``FrozenEstimator(model)``) is
        used as is; an unfitted one is cloned and fitted on the training part
        of ``(X, y)``. ``None`` is ``MLPClassifier(hidden_layer_sizes=(64,))``.
    k : int, default=20
        Number of features kept (all of them when there are fewer).
    surrogate : classifier, default=None
        Interpretable model fitted on the top-k features, e.g. a rule learner;
        ``None`` is ``DecisionTreeClassifier(max_depth=max_depth)``. It is
        cloned. ``rules`` and ``explain_local`` need a decision tree or a
        :class:`~sktrust.rules.FOLDSEClassifier`.
    max_depth : int, default=5
        Depth of the default tree surrogate.
    importance : tuple of {"permutation", "sensitivity", "gradient", "embedding"}, \
            default=("permutation", "sensitivity", "gradient")
        Probes whose ranks are averaged: the score drop when a column is
        permuted, the probability change when it is set to its mean, the mean
        absolute input gradient of the predicted class, and the embedding
        probe, the mean norm of the derivative of the black box's embedding
        (its penultimate activations, the input of its final layer) with
        respect to each column: for a linear first layer ``e = W x`` this is
        the norm of the embedding weights of the column, ``||W[:, j]||``.
        ``"gradient"`` and ``"embedding"`` are skipped for models the torch
        adapter :func:`sktrust.nn.as_torch_model` cannot differentiate, and
        ``"embedding"`` also for models without a hidden layer (their
        embedding is the input itself). The paper's attention probe is not
        offered: no model here exposes attention over input features.
    n_repeats : int, default=5
        Permutations per feature.
    holdout : float, default=0.25
        Fraction of rows held out for the probes and for fidelity.
    n_candidates : int or "auto", default="auto"
        Features passed from the screen to the perturbation probes;
        ``"auto"`` is ``max(5 * k, 100)``. The perturbation probes use at
        most 256 held-out rows.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    black_box_ : classifier
        The fitted black box.
    screen_scores_ : ndarray of shape (n_features,)
        Score of every feature in the cheap screen.
    screen_ : str
        Which screen was used: "gradient", "native" or "correlation".
    candidates_ : ndarray of int
        Features probed by perturbation.
    probe_scores_ : dict of str to ndarray of shape (n_features,)
        Score of each probe (0 outside the candidates).
    feature_importances_ : ndarray of shape (n_features,)
        Mean of the probes' scores, each normalised to sum to one (0 for
        features outside ``candidates_``).
    top_k_features_ : ndarray of int
        Columns kept, best first.
    surrogate_ : classifier
        The surrogate, fitted on ``X_train[:, top_k_features_]`` and the
        black box's predictions.
    fidelity_ : float
        Agreement of surrogate and black box on the held-out rows.
    accuracy_ : float or None
        Surrogate accuracy on the held-out true labels (None without ``y``).
    black_box_accuracy_ : float or None
        Black-box accuracy on the same rows.

    References
    ----------
    .. [1] M. R. Karim et al. "Interpreting Black-box Machine Learning Models
       for High Dimensional Datasets", arXiv:2208.13405, 2022.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktrust.explain import TopKSurrogateExplainer
    >>> X, y = make_classification(n_samples=300, n_features=50, n_informative=3,
    ...                            n_redundant=0, n_clusters_per_class=1, class_sep=2.0,
    ...                            shuffle=False, random_state=0)
    >>> exp = TopKSurrogateExplainer(LogisticRegression(), k=5, random_state=0).fit(X, y)
    >>> sorted(exp.top_k_features_[:3].tolist())
    [0, 1, 2]
    >>> bool(exp.fidelity_ > 0.8)
    True
    >>> rules = exp.rules()
    """

    _parameter_constraints: dict = {
        "black_box": [HasMethods(["fit", "predict_proba"]), None],
        "k": [Interval(Integral, 1, None, closed="left")],
        "surrogate": [HasMethods(["fit", "predict"]), None],
        "max_depth": [Interval(Integral, 1, None, closed="left")],
        "importance": [tuple, list],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "holdout": [Interval(Real, 0, 1, closed="neither")],
        "n_candidates": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "random_state": ["random_state"],
    }

    def __init__(self, black_box=None, *, k=20, surrogate=None, max_depth=5,
                 importance=DEFAULT_PROBES, n_repeats=5, holdout=0.25, n_candidates="auto",
                 random_state=None):
        self.black_box = black_box
        self.k = k
        self.surrogate = surrogate
        self.max_depth = max_depth
        self.importance = importance
        self.n_repeats = n_repeats
        self.holdout = holdout
        self.n_candidates = n_candidates
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    # -- fit -----------------------------------------------------------------
    def _fit(self, X, y):
        from sklearn.neural_network import MLPClassifier

        unknown = set(self.importance) - set(PROBES)
        if not self.importance or unknown:
            raise ValueError(
                f"importance must be a non-empty subset of {PROBES}; got "
                f"{tuple(self.importance)!r}."
            )
        seed = check_random_state_seed(self.random_state)
        rng = np.random.default_rng(seed)
        bb = self.black_box
        if bb is None:
            bb = MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=seed)
        fitted = isinstance(bb, FrozenEstimator)
        if not fitted:
            try:
                check_is_fitted(bb)
                fitted = True
            except Exception:
                fitted = False
        if y is None and not fitted:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None (it fits the black box); pass y or a fitted black_box."
            )
        if y is not None:
            y = np.asarray(y)
            if y.shape[0] != X.shape[0]:
                raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}.")
        idx = np.arange(X.shape[0])
        if X.shape[0] < 4:
            raise ValueError(f"{type(self).__name__} needs at least 4 samples to hold "
                             f"some out; got n_samples = {len(X)}.")
        try:
            train, held = train_test_split(idx, test_size=self.holdout, random_state=seed,
                                           stratify=y)
        except (ValueError, TypeError):
            train, held = train_test_split(idx, test_size=self.holdout, random_state=seed)
        if fitted:
            self.black_box_ = bb.estimator if isinstance(bb, FrozenEstimator) else bb
        else:
            if len(np.unique(y[train])) < 2:
                raise ValueError(
                    "The training part of y has a single class; the black box needs "
                    "at least two classes."
                )
            self.black_box_ = clone(bb).fit(X[train], y[train])
        if not is_classifier(self.black_box_):
            raise TypeError(f"black_box must be a classifier; got "
                            f"{type(self.black_box_).__name__}.")
        Xh = X[held[:_MAX_PROBE_ROWS]]
        P = self.black_box_.predict_proba(model_input(self.black_box_, Xh))
        d = X.shape[1]
        k = min(self.k, d)
        self.screen_, self.screen_scores_ = self._screen(X[train], Xh, P)
        n_cand = (max(_CANDIDATES_PER_K * k, _MIN_CANDIDATES) if self.n_candidates == "auto"
                  else self.n_candidates)
        n_cand = min(max(n_cand, k), d)
        self.candidates_ = np.sort(np.argsort(-self.screen_scores_, kind="stable")[:n_cand])
        self.probe_scores_ = self._probe(X[train], Xh, P, rng)
        if not self.probe_scores_:
            raise ValueError(
                f"None of the probes {tuple(self.importance)} applies to "
                f"{type(self.black_box_).__name__}: 'gradient' and 'embedding' need a model "
                "the torch adapter can differentiate (and 'embedding' a hidden layer). Add "
                "'permutation' or 'sensitivity'."
            )
        cand = self.candidates_
        normalised = [s[cand] / s[cand].sum() if s[cand].sum() > 0 else np.zeros(len(cand))
                      for s in self.probe_scores_.values()]
        self.feature_importances_ = np.zeros(d)
        self.feature_importances_[cand] = np.mean(normalised, axis=0)
        mean_rank = np.mean([_rank(s[cand]) for s in self.probe_scores_.values()], axis=0)
        order = np.lexsort((-self.feature_importances_[cand], mean_rank))
        self.top_k_features_ = cand[order[:k]]

        target_train = self.black_box_.predict(model_input(self.black_box_, X[train]))
        sur = self.surrogate
        if sur is None:
            sur = DecisionTreeClassifier(max_depth=self.max_depth, random_state=seed)
        self.surrogate_ = clone(sur).fit(X[train][:, self.top_k_features_], target_train)
        Xh = X[held]
        sur_pred = self.surrogate_.predict(Xh[:, self.top_k_features_])
        bb_pred = self.black_box_.predict(model_input(self.black_box_, Xh))
        self.fidelity_ = float(np.mean(sur_pred == bb_pred))
        self.accuracy_ = None if y is None else float(np.mean(sur_pred == y[held]))
        self.black_box_accuracy_ = None if y is None else float(np.mean(bb_pred == y[held]))
        self._train_rows = train
        self.classes_ = self.surrogate_.classes_

    def _differentiate(self, Xh, read):
        """``read(tm, x)`` on a grad-enabled tensor of ``Xh`` with the black box in
        eval mode; None when the torch adapter cannot differentiate the model."""
        from sktrust.nn import as_torch_model

        try:
            tm = as_torch_model(self.black_box_)
        except (TypeError, ValueError):
            return None
        if tm is None or tm.pre is not None:
            return None
        import torch

        was_training = tm.module.training
        tm.module.eval()
        try:
            x = torch.as_tensor(Xh, dtype=tm.dtype, device=tm.device).requires_grad_(True)
            return read(tm, x)
        finally:
            tm.module.train(was_training)

    def _gradient_scores(self, Xh, P):
        import torch

        def read(tm, x):
            proba = torch.softmax(tm.logits_tensor(x), dim=1)
            top = torch.as_tensor(np.argmax(P, axis=1), device=tm.device)
            (grad,) = torch.autograd.grad(proba.gather(1, top[:, None]).sum(), x)
            return np.abs(grad.detach().cpu().numpy()).mean(axis=0)

        return self._differentiate(Xh, read)

    def _embedding_scores(self, Xh):
        """Mean over rows of ``||d embedding / d x_j||``; None without an embedding."""
        import torch

        def read(tm, x):
            try:
                emb = tm.features_tensor(x)
            except ValueError:  # no features protocol
                return None
            emb = emb.reshape(len(Xh), -1)
            if emb.shape == x.shape and torch.equal(emb, x):
                return None  # no hidden layer: the embedding is the input
            sq = torch.zeros_like(x)
            for k in range(emb.shape[1]):  # rows are independent: one pass per unit
                (g,) = torch.autograd.grad(emb[:, k].sum(), x, retain_graph=True)
                sq += g.detach() ** 2
            return sq.sqrt().mean(dim=0).cpu().numpy().astype(float)

        return self._differentiate(Xh, read)

    def _screen(self, X_train, Xh, P):
        if "gradient" in self.importance:
            grad = self._gradient_scores(Xh, P)
            if grad is not None:
                return "gradient", grad
        native = getattr(self.black_box_, "feature_importances_", None)
        if native is None and getattr(self.black_box_, "coef_", None) is not None:
            native = np.abs(np.atleast_2d(self.black_box_.coef_)).sum(axis=0) * X_train.std(
                axis=0)
        if native is not None and np.shape(native) == (Xh.shape[1],):
            return "native", np.asarray(native, dtype=float)
        Xc = Xh - Xh.mean(axis=0)
        Pc = P - P.mean(axis=0)
        denom = np.sqrt((Xc**2).sum(axis=0))[:, None] * np.sqrt((Pc**2).sum(axis=0))[None]
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where(denom > 0, np.abs(Xc.T @ Pc) / denom, 0.0)
        return "correlation", corr.max(axis=1)

    def _perturbed_change(self, Xh, P, cand, make):
        """Mean probability change when ``make(Xc, j)`` perturbs column j."""
        n = len(Xh)
        per_call = max(1, _PROBE_BATCH_CELLS // (n * Xh.shape[1]))
        scores = np.empty(len(cand))
        # One buffer of copies; only the perturbed column is restored after each call.
        X_big = np.repeat(Xh[None], min(per_call, len(cand)), axis=0)
        for start in range(0, len(cand), per_call):
            cols = cand[start:start + per_call]
            for i, j in enumerate(cols):
                X_big[i, :, j] = make(j)
            with config_context(assume_finite=True):  # rows were validated in fit
                rows = model_input(self.black_box_, X_big[:len(cols)].reshape(-1, Xh.shape[1]))
                Q = self.black_box_.predict_proba(rows)
            for i, j in enumerate(cols):
                X_big[i, :, j] = Xh[:, j]
            scores[start:start + len(cols)] = _total_variation(
                Q.reshape(len(cols), n, -1), P[None])
        return scores

    def _probe(self, X_train, Xh, P, rng):
        d = Xh.shape[1]
        cand = self.candidates_
        out = {}
        for name in self.importance:
            score = np.zeros(d)
            if name == "permutation":
                perms = [rng.permutation(len(Xh)) for _ in range(self.n_repeats)]
                score[cand] = np.mean([
                    self._perturbed_change(Xh, P, cand, lambda j, p=p: Xh[p, j])
                    for p in perms], axis=0)
            elif name == "sensitivity":
                means = X_train.mean(axis=0)
                score[cand] = self._perturbed_change(Xh, P, cand, lambda j, m=means: m[j])
            elif name == "embedding":
                emb = self._embedding_scores(Xh)
                if emb is None:
                    continue
                score[cand] = emb[cand]
            else:
                grad = (self.screen_scores_ if self.screen_ == "gradient"
                        else self._gradient_scores(Xh, P))
                if grad is None:
                    continue
                score[cand] = grad[cand]
            out[name] = score
        return out

    # -- prediction ----------------------------------------------------------
    def _top(self, X):
        check_is_fitted(self, "surrogate_")
        X = validate_data(self, X, reset=False, dtype="numeric")
        check_non_empty(X, "X")
        return X[:, self.top_k_features_]

    def transform(self, X):
        """The top-k columns of ``X``, best first."""
        return self._top(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the top-k columns, best first."""
        check_is_fitted(self, "surrogate_")
        return np.asarray(self._names(), dtype=object)

    def predict(self, X):
        """Surrogate predictions (imitating the black box)."""
        X = self._top(X)
        return self.surrogate_.predict(X)

    def predict_proba(self, X):
        """Surrogate class probabilities."""
        X = self._top(X)
        return self.surrogate_.predict_proba(X)

    def _explain(self, X):
        from sktrust.explain._shap import ShapExplainer

        Xk = X[:, self.top_k_features_]
        background = self.background_[self._train_rows][:, self.top_k_features_]
        shap_exp = ShapExplainer(FrozenEstimator(self.surrogate_), random_state=0)
        sv, base = shap_exp.fit(background)._explain(Xk)
        values = np.zeros((X.shape[0], X.shape[1]) + sv.shape[2:])
        values[:, self.top_k_features_] = sv
        return values, base

    # -- rules ---------------------------------------------------------------
    def _tree(self):
        check_is_fitted(self, "surrogate_")
        if not hasattr(self.surrogate_, "tree_"):
            raise TypeError(
                "rules and explain_local read the paths of a decision tree surrogate or "
                "the program of a FOLDSEClassifier surrogate; this surrogate is a "
                f"{type(self.surrogate_).__name__}. Use its own export (e.g. export_text) "
                "instead."
            )
        return self.surrogate_.tree_

    def _is_rule_list(self):
        """Whether the surrogate is a FOLD rule learner (read through its public attributes)."""
        check_is_fitted(self, "surrogate_")
        return all(hasattr(self.surrogate_, a) for a in
                   ("flat_rules_", "rules_", "rule_class_counts_", "default_class_"))

    def _fold_rules(self):
        """One dict per top-level FOLD rule, then one for "no rule fires".

        The surrogate saw the top-k columns as ``x0, x1, ...``; conditions
        name the original columns.
        """
        sur = self.surrogate_
        names = self._names()

        def name(f):
            return names[int(f[1:])]

        def plain(op):
            # FOLD's tidy form "not <=" is ">" here: the columns are all numbers.
            return {"not <=": ">", "not >": "<="}.get(op, op)

        def literal(f, op, v):
            v = f"{v:.4g}" if isinstance(v, float) else repr(v)
            return f"{name(f)} {plain(op)} {v}"

        clauses = {head: (lits, abn) for head, lits, abn in sur.flat_rules_[len(sur.rules_):]}

        def body(lits, abn):
            text = " and ".join(literal(*lt) for lt in lits) or "always"
            for a in abn:
                text += f" unless ({body(*clauses[a])})"
            return text

        counts = sur.rule_class_counts_
        total = counts.sum()
        out = []
        for k, (head, lits, abn) in enumerate(sur.flat_rules_[:len(sur.rules_)]):
            out.append({"rule": body(lits, abn), "head": head, "lits": lits, "row": k})
        out.append({"rule": "no rule fires", "head": sur.default_class_, "lits": [],
                    "row": len(sur.rules_)})
        for r in out:
            row = r.pop("row")
            n = counts[row].sum()
            c = int(np.flatnonzero(sur.classes_ == r["head"])[0])
            r["conditions"] = [(name(f), plain(op), v) for f, op, v in r.pop("lits")]
            r["prediction"] = r.pop("head")
            r["support"] = float(n / total)
            r["confidence"] = float(counts[row, c] / n) if n > 0 else float("nan")
        return out

    def _names(self):
        names = self._feature_names()
        return [names[j] for j in self.top_k_features_]

    def _leaf_paths(self):
        """For each leaf: list of (top-k column, "<=" or ">", threshold)."""
        tree = self._tree()
        paths = {}
        stack = [(0, [])]
        while stack:
            node, conds = stack.pop()
            left, right = tree.children_left[node], tree.children_right[node]
            if left == right:
                paths[node] = conds
                continue
            f, t = int(tree.feature[node]), float(tree.threshold[node])
            stack.append((right, conds + [(f, ">", t)]))
            stack.append((left, conds + [(f, "<=", t)]))
        return paths

    def _format(self, conds):
        names = self._names()
        return " and ".join(f"{names[f]} {op} {t:.4g}" for f, op, t in conds) or "always"

    def rules(self):
        """Global explanation: one rule per leaf of the tree surrogate.

        Returns
        -------
        rules : list of dict
            Keys ``"rule"`` (text), ``"conditions"`` (list of (feature name,
            operator, threshold)), ``"prediction"`` (class), ``"support"``
            (fraction of surrogate training rows reaching the leaf) and
            ``"confidence"`` (fraction of them whose black-box prediction is
            that class), by decreasing support. With a ``FOLDSEClassifier``
            surrogate: one entry per top-level rule, in the order the rules
            are tried, then ``"no rule fires"`` (the default class);
            ``"conditions"`` is the rule's body (exceptions are in
            ``"rule"`` as ``unless (...)``) and ``"support"`` counts the rows
            the rule decides (the first rule that fires).
        """
        if self._is_rule_list():
            return self._fold_rules()
        tree = self._tree()
        names = self._names()
        out = []
        counts = tree.weighted_n_node_samples
        for leaf, conds in self._leaf_paths().items():
            dist = tree.value[leaf][0]
            out.append({
                "rule": self._format(conds),
                "conditions": [(names[f], op, t) for f, op, t in conds],
                "prediction": self.classes_[int(np.argmax(dist))],
                "support": float(counts[leaf] / counts[0]),
                "confidence": float(dist.max() / dist.sum()),
            })
        return sorted(out, key=lambda r: -r["support"])

    def explain_local(self, X):
        """The rule behind each prediction and a counterfactual.

        The counterfactual moves the row into the nearest leaf of another
        class: fewest features changed, then smallest change in units of
        each feature's training standard deviation. Each changed feature is
        set just across the violated threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        explanations : list of dict
            Per row: ``"rule"``, ``"prediction"``, ``"counterfactual"`` (a
            full-width row, or None when every leaf predicts one class),
            ``"counterfactual_prediction"`` and ``"changes"`` ({feature name:
            (old, new)}). With a ``FOLDSEClassifier`` surrogate, ``"rule"`` is
            the text of the rule that decided the row (as in :meth:`rules`)
            and no counterfactual is searched (``None`` and ``{}``).
        """
        Xk = self._top(X)
        if self._is_rule_list():
            texts = [r["rule"] for r in self._fold_rules()]
            decisions = self.surrogate_.explain(Xk).decisions
            pred = self.surrogate_.predict(Xk)  # one call, as the tree branch's classes_
            return [{"rule": texts[-1 if d["rule"] is None else d["rule"]],
                     "prediction": p,
                     "counterfactual": None, "counterfactual_prediction": None,
                     "changes": {}} for d, p in zip(decisions, pred)]
        X_full = validate_data(self, X, reset=False, dtype="numeric").astype(float)
        tree = self._tree()
        paths = self._leaf_paths()
        leaf_class = {leaf: int(np.argmax(tree.value[leaf][0])) for leaf in paths}
        scale = self.background_[:, self.top_k_features_].std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        names = self._names()
        leaves = self.surrogate_.apply(Xk)
        out = []
        for row, xk, leaf in zip(X_full, Xk.astype(float), leaves):
            best = None
            for other, conds in paths.items():
                if leaf_class[other] == leaf_class[leaf]:
                    continue
                new = xk.copy()
                for f, op, t in conds:
                    if op == "<=" and new[f] > t:
                        new[f] = t - 1e-4 * max(1.0, abs(t))
                    elif op == ">" and new[f] <= t:
                        new[f] = t + 1e-4 * max(1.0, abs(t))
                changed = np.flatnonzero(new != xk)
                cost = (len(changed), float(np.sum(np.abs(new - xk) / scale)))
                if best is None or cost < best[0]:
                    best = (cost, new, changed)
            entry = {"rule": self._format(paths[leaf]),
                     "prediction": self.classes_[leaf_class[leaf]],
                     "counterfactual": None, "counterfactual_prediction": None,
                     "changes": {}}
            if best is not None:
                cf = row.copy()
                cf[self.top_k_features_] = best[1]
                entry["counterfactual"] = cf
                entry["counterfactual_prediction"] = self.surrogate_.predict(best[1][None])[0]
                entry["changes"] = {names[f]: (float(xk[f]), float(best[1][f]))
                                    for f in best[2]}
            out.append(entry)
        return out
