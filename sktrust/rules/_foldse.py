"""FOLD-SE: default rules with exceptions, learned from raw mixed-type tables."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import logging
import re
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from sktrust.rules._literals import (
    HEURISTICS,
    LiteralSearch,
    column_is_categorical,
    encode_table,
    literal_mask,
)
from sktrust.utils._sklearn_compat import Interval, StrOptions, _fit_context, validate_data
from sktrust.utils._validation import encode_classification_target

logger = logging.getLogger(__name__)


class FOLDSEClassifier(ClassifierMixin, BaseEstimator):
    """Rule learner with exceptions (FOLD-SE / FOLD-R++ / FOLD-RM) for raw tables.

    Learns a short, ordered default-logic program: each rule says "class is c
    if A and B, unless an exception holds", and exceptions are themselves
    rules with exceptions. Literals are ``feature <= v`` / ``feature > v`` for
    numbers and ``feature == c`` / ``feature != c`` for categories, so raw
    DataFrames with strings, numbers, mixed columns and missing values are
    used as they come, with no encoding step. Unseen categories at predict
    time simply make ``==`` literals false and ``!=`` literals true.

    With ``criterion="info_gain", tail=0`` this is FOLD-R++ (binary) or
    FOLD-RM (more than two classes); ``criterion="gini"`` with a positive
    ``tail`` is FOLD-SE, which keeps the program small on large data.

    Read more in the :ref:`User Guide <rules>`.

    Parameters
    ----------
    ratio : float, default=0.5
        Largest allowed ratio of covered negatives to covered positives before
        a rule stops specialising and learns exceptions (FOLD-R++/RM default;
        the authors suggest 0.5 to 0.9 for many classes).
    tail : float, default=0.005
        A rule (or exception) must cover at least ``tail * n_samples``
        training rows of its class, otherwise learning stops there (FOLD-SE's
        pruning of the long tail of small rules). ``0`` disables it.
    criterion : {"gini", "info_gain"}, default="gini"
        Literal score: FOLD-SE's Gini-impurity score or FOLD-R++'s
        information gain (natural log), both ``-inf`` for literals that get
        more rows wrong than right.
    categorical_features : "auto" or array-like, default="auto"
        Columns whose every value is a category token (names, indices or a
        boolean mask). ``"auto"``: bool, category and string columns, and
        object columns holding no number. In the other (numeric) columns,
        numbers and numeric strings are numbers and anything else is a token.
        A CSV column of numbers with ``?`` loads as text and "auto" reads it
        as categories: read the file with ``na_values="?"`` or list the
        categorical columns here.
    positive_label : object, default=None
        Class the binary program describes (rules conclude it; everything
        else is the other class). ``None`` takes the majority class, as the
        FOLD-R++ authors advise. Ignored with more than two classes.
    missing_token : str, default="?"
        Token standing for a missing value (NaN, None, empty string): a
        category like any other, so rules may test for it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    rules_ : list of tuple
        The learned program in the order rules are tried: ``(head, literals,
        exceptions)`` where ``head`` is a class label (None for exceptions),
        ``literals`` a list of ``(feature_name, op, value)`` and
        ``exceptions`` a list of rules of the same shape.
    flat_rules_ : list of tuple
        The tidied, flattened program: ``(head, literals, abnormal)`` with
        nested exceptions named ``"ab1"``, ``"ab2"``, ... (heads of their own
        clauses), one-literal exceptions folded into the body as negated
        literals and bounds on one feature merged into an interval.
    n_rules_ : int
        Number of clauses in ``flat_rules_`` (default rules and exception
        rules).
    n_literals_ : int
        Number of body literals in ``flat_rules_``.
    default_class_ : object
        Class predicted when no rule fires (the non-positive class for two
        classes, the training majority otherwise).
    positive_class_ : object or None
        Class described by the binary program (None with more classes).
    categorical_mask_ : ndarray of bool of shape (n_features_in_,)
        Columns treated as all-categorical.
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies in the training data.
    rule_class_counts_ : ndarray of shape (n_rules + 1, n_classes)
        Training rows per class decided by each top-level rule (last row: no
        rule fired); the basis of :meth:`predict_proba`.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit (only for string column names).

    See Also
    --------
    sklearn.tree.DecisionTreeClassifier : Axis-aligned splits needing encoded input.

    Notes
    -----
    Learning (FOLD-R++, [1]_): a rule greedily adds the best literal until it
    covers at most ``ratio`` negatives per positive; leftover negatives are
    learned as exceptions by the same procedure with the classes swapped.
    Rules are added until the positives are covered. Several classes (FOLD-RM,
    [2]_): the most frequent remaining class gets one rule against all the
    others, the rows it covers (of any class) are removed, and so on; rules
    are tried in order and the first that fires decides. The literal search
    sorts each feature once and scores every threshold and category from
    prefix sums of class counts, vectorised in numpy.

    ``predict_proba`` is not part of FOLD, which is crisp: for the rule that
    decides a row (or "no rule fired"), it returns the class frequencies of
    the training rows that the same rule decides, smoothed by one pseudo-row
    spread by the training class prior: ``(n_c + prior_c) / (n + 1)``.
    ``predict`` follows the logic program; where a rule's training region is
    not dominated by its own class (possible with tiny regions or with
    ``tail`` pruning), the two may disagree.

    References
    ----------
    .. [1] H. Wang and G. Gupta, "FOLD-R++: A Scalable Toolset for Automated
       Inductive Learning of Default Theories from Mixed Data", FLOPS 2022.
    .. [2] H. Wang, F. Shakerin and G. Gupta, "FOLD-RM: A Scalable, Efficient,
       and Explainable Inductive Learning Algorithm for Multi-Category
       Classification of Mixed Data", TPLP 2022.
    .. [3] H. Wang and G. Gupta, "FOLD-SE: An Efficient Rule-based Machine
       Learning Algorithm with Scalable Explainability", PADL 2024.

    Examples
    --------
    >>> import pandas as pd
    >>> from sktrust.rules import FOLDSEClassifier
    >>> X = pd.DataFrame({"age": [25, 61, 47, 33, 70, 52, 19, 66, 58, 45],
    ...                   "smoker": ["no", "yes", "yes", "no", "no", "yes", None,
    ...                              "yes", "yes", "no"]})
    >>> y = ["low", "high", "high", "low", "low", "high", "low", "high", "low", "low"]
    >>> clf = FOLDSEClassifier(tail=0, positive_label="high").fit(X, y)
    >>> print(clf.export_text(style="english", target_name="risk"))
    Rule 1: risk is 'high' if smoker is 'yes', unless exception ab1 holds.
    Exception ab1 holds if age > 52 and age <= 58.
    Otherwise: risk is 'low'.
    >>> print(clf.export_text())
    label(X,'high') :- smoker(X,'yes'), not ab1(X).
    ab1(X) :- age(X,N1), N1>52, N1=<58.
    >>> clf.predict(pd.DataFrame({"age": [40, 40], "smoker": ["yes", "unknown"]}))
    array(['high', 'low'], dtype='<U4')
    """

    _parameter_constraints: dict = {
        "ratio": [Interval(Real, 0, None, closed="left")],
        "tail": [Interval(Real, 0, 1, closed="left")],
        "criterion": [StrOptions({"gini", "info_gain"})],
        "categorical_features": [StrOptions({"auto"}), "array-like"],
        "positive_label": "no_validation",
        "missing_token": [str],
    }

    def __init__(
        self,
        ratio=0.5,
        tail=0.005,
        criterion="gini",
        *,
        categorical_features="auto",
        positive_label=None,
        missing_token="?",
    ):
        self.ratio = ratio
        self.tail = tail
        self.criterion = criterion
        self.categorical_features = categorical_features
        self.positive_label = positive_label
        self.missing_token = missing_token

    # ------------------------------------------------------------------ #
    # Input handling
    # ------------------------------------------------------------------ #

    def _check_X(self, X, reset):
        if not isinstance(X, pd.DataFrame):
            X = check_array(X, dtype=None, ensure_all_finite=False, ensure_min_samples=1)
            if X.dtype.kind == "c":
                raise ValueError("Complex data not supported")
        elif X.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 "
                "is required."
            )
        validate_data(self, X, skip_check_array=True, reset=reset)
        return X

    def _resolve_categorical(self, X):
        n_features = X.shape[1]
        spec = self.categorical_features
        if isinstance(spec, str):
            if isinstance(X, pd.DataFrame):
                return np.array([column_is_categorical(X.iloc[:, j]) for j in range(n_features)])
            return np.array([column_is_categorical(X[:, j]) for j in range(n_features)])
        spec = np.asarray(spec)
        mask = np.zeros(n_features, dtype=bool)
        if spec.dtype.kind == "b":
            if spec.shape != (n_features,):
                raise ValueError(
                    f"categorical_features as a boolean mask must have {n_features} "
                    f"entries, got {spec.shape}."
                )
            return spec.copy()
        names = list(getattr(self, "feature_names_in_", []))
        for item in spec.ravel():
            if isinstance(item, (str, np.str_)):
                if item not in names:
                    raise ValueError(
                        f"categorical_features names {item!r}, which is not a column of X."
                    )
                mask[names.index(item)] = True
            elif isinstance(item, (Integral, np.integer)) and -n_features <= item < n_features:
                mask[item] = True
            else:
                raise ValueError(
                    f"categorical_features entry {item!r} is neither a column name nor an "
                    f"index below {n_features}."
                )
        return mask

    def _feature_names(self):
        if hasattr(self, "feature_names_in_"):
            return [str(c) for c in self.feature_names_in_]
        return [f"x{j}" for j in range(self.n_features_in_)]

    # ------------------------------------------------------------------ #
    # Learning
    # ------------------------------------------------------------------ #

    def _covers(self, rule, rows):
        """Boolean mask over ``rows`` of the training rows a raw rule covers."""
        return _holds(rule, self._num, self._tok, rows)

    def _learn_rule(self, pos, neg, used):
        literals, used = [], used.copy()
        exceptions = []
        while True:
            found = self._search.best(pos, neg, used)
            if found is None:
                break
            literal, value_id, _ = found
            literals.append(literal)
            used[value_id] = True
            pos = pos[literal_mask(self._num, self._tok, literal, pos)]
            neg = neg[literal_mask(self._num, self._tok, literal, neg)]
            if len(neg) <= self.ratio * len(pos):
                if len(neg):
                    exceptions = self._learn_rule_set(neg, pos, used)
                break
        return literals, exceptions

    def _learn_rule_set(self, pos, neg, used):
        rules = []
        while len(pos):
            rule = self._learn_rule(pos, neg, used)
            covered = self._covers(rule, pos)
            n_covered = int(covered.sum())
            if n_covered == 0 or n_covered < self._min_cover:
                break
            rules.append(rule)
            pos = pos[~covered]
        return rules

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the rule program from raw data.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw features: numbers, strings and missing values, no encoding.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : FOLDSEClassifier
            Fitted estimator.
        """
        X = self._check_X(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        y_idx = encode_classification_target(self, y)
        n_classes = len(self.classes_)
        self.categorical_mask_ = self._resolve_categorical(X)
        self._num, self._tok = encode_table(X, self.categorical_mask_, self.missing_token)
        self._search = LiteralSearch(self._num, self._tok, HEURISTICS[self.criterion])
        n = len(y_idx)
        self._min_cover = self.tail * n
        rows = np.arange(n)
        counts = np.bincount(y_idx, minlength=n_classes)
        raw = []
        try:
            if n_classes == 2:
                if self.positive_label is None:
                    positive = int(np.argmax(counts))
                else:
                    matches = np.flatnonzero(self.classes_ == self.positive_label)
                    if len(matches) == 0:
                        raise ValueError(
                            f"positive_label={self.positive_label!r} is not one of the "
                            f"classes {self.classes_.tolist()}."
                        )
                    positive = int(matches[0])
                self.positive_class_ = _py(self.classes_[positive])
                default = 1 - positive
                used = np.zeros(self._search.n_values, dtype=bool)
                rule_set = self._learn_rule_set(
                    rows[y_idx == positive], rows[y_idx != positive], used
                )
                raw = [(positive, rule) for rule in rule_set]
            else:
                self.positive_class_ = None
                default = int(np.argmax(counts))
                remaining = rows
                while len(remaining):
                    c = int(np.argmax(np.bincount(y_idx[remaining], minlength=n_classes)))
                    is_c = y_idx[remaining] == c
                    used = np.zeros(self._search.n_values, dtype=bool)
                    rule = self._learn_rule(remaining[is_c], remaining[~is_c], used)
                    covered = self._covers(rule, remaining)
                    n_covered = int((covered & is_c).sum())
                    if n_covered == 0 or n_covered < self._min_cover:
                        break
                    raw.append((c, rule))
                    remaining = remaining[~covered]
        finally:
            del self._search
        self.default_class_ = _py(self.classes_[default])
        names = self._feature_names()
        self.rules_ = [
            (_py(self.classes_[c]), *_named_rule(rule, names)) for c, rule in raw
        ]
        self.flat_rules_ = _flatten(self.rules_)
        self.n_rules_ = len(self.flat_rules_)
        self.n_literals_ = sum(len(lits) for _, lits, _ in self.flat_rules_)
        decided = self._decide(self._num, self._tok)
        region = np.where(decided < 0, len(self.rules_), decided)
        self.rule_class_counts_ = np.zeros((len(self.rules_) + 1, n_classes))
        np.add.at(self.rule_class_counts_, (region, y_idx), 1.0)
        self.class_prior_ = counts / n
        del self._num, self._tok
        logger.info("FOLD learned %d rules, %d literals", self.n_rules_, self.n_literals_)
        return self

    # ------------------------------------------------------------------ #
    # Prediction
    # ------------------------------------------------------------------ #

    def _encode(self, X):
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return encode_table(X, self.categorical_mask_, self.missing_token)

    def _compiled(self):
        index = {name: j for j, name in enumerate(self._feature_names())}

        def compile_rule(literals, exceptions):
            lits = [(index[f], op, v) for f, op, v in literals]
            return lits, [compile_rule(lt, ex) for _, lt, ex in exceptions]

        return [compile_rule(lits, excs) for _, lits, excs in self.rules_]

    def _decide(self, numbers, tokens):
        """Index of the first firing top-level rule per row, -1 if none fires."""
        decided = np.full(numbers.shape[0], -1)
        for k, rule in enumerate(self._compiled()):
            open_rows = np.flatnonzero(decided < 0)
            if not len(open_rows):
                break
            fires = _holds(rule, numbers, tokens, open_rows)
            decided[open_rows[fires]] = k
        return decided

    def predict(self, X):
        """Class of the first rule that fires, the default class if none does.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw features.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        numbers, tokens = self._encode(X)
        decided = self._decide(numbers, tokens)
        heads = np.array(
            [np.flatnonzero(self.classes_ == h)[0] for h, _, _ in self.rules_]
            + [np.flatnonzero(self.classes_ == self.default_class_)[0]],
            dtype=int,
        )
        return self.classes_[heads[decided]]

    def predict_proba(self, X):
        """Training class frequencies of the rule that decides each row.

        For the first rule that fires (or "no rule fires"), the class
        frequencies among the training rows that the same rule decides,
        smoothed by one pseudo-row spread by the class prior:
        ``(n_c + prior_c) / (n + 1)``. These are rule coverage statistics, not
        part of FOLD itself, which is crisp.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw features.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities in the order of ``classes_``.
        """
        numbers, tokens = self._encode(X)
        decided = self._decide(numbers, tokens)
        counts = self.rule_class_counts_
        table = (counts + self.class_prior_) / (counts.sum(axis=1, keepdims=True) + 1.0)
        return table[np.where(decided < 0, len(self.rules_), decided)]

    # ------------------------------------------------------------------ #
    # Reading the program
    # ------------------------------------------------------------------ #

    def export_text(self, style="logic", target_name="label"):
        """The learned program as text.

        Parameters
        ----------
        style : {"logic", "english"}, default="logic"
            ``"logic"``: an answer-set-programming style logic program, one
            clause per line, exceptions as ``ab`` predicates (FOLD-R++'s
            output format). ``"english"``: numbered rules in plain English.
        target_name : str, default="label"
            Name used for the predicted variable.

        Returns
        -------
        text : str

        See Also
        --------
        to_asp : The program as a runnable answer set program.
        """
        check_is_fitted(self)
        if style not in ("logic", "english"):
            raise ValueError(f"style must be 'logic' or 'english', got {style!r}.")
        if style == "logic":
            n_top = len(self.rules_)
            lines = [
                _clause_logic(c, target_name if k < n_top else None)
                for k, c in enumerate(self.flat_rules_)
            ]
            if self.positive_class_ is None and len(self.rules_) > 1:
                lines.insert(0, "% rules are tried in order; the first that fires decides.")
            return "\n".join(lines)
        n_top = len(self.rules_)
        lines = []
        for k, (head, lits, abn) in enumerate(self.flat_rules_):
            if k < n_top:
                lines.append(
                    f"Rule {k + 1}: {target_name} is {_fmt(head)} if {_body_english(lits, abn)}."
                )
            else:
                lines.append(f"Exception {head} holds if {_body_english(lits, abn)}.")
        lines.append(f"Otherwise: {target_name} is {self.default_class_!r}.")
        return "\n".join(lines)

    def to_asp(self, target_name="label"):
        """The learned program as a self-contained answer set program.

        Unlike ``export_text(style="logic")``, which is for reading, this text
        is meant to be run: its unique stable model reproduces
        :meth:`predict` on any row written as facts, every threshold printed
        exactly (shortest round-trip ``repr``). The syntax is that of
        s(CASP), the solver FOLD-R++'s programs are written for (Prolog
        terms: floats, single-quoted atoms, ``=<``, ``not`` as a prefix
        operator); clingo, which has no floats and double-quotes its
        strings, does not read it as is. SWI-Prolog runs it after
        ``:- op(900, fy, not).``, but its arithmetic raises an error on a
        comparison with a token, so there the rows must hold numbers in the
        numeric columns.

        - Facts: one per row ``X`` and feature, ``feature(X, value)``, with
          numbers as numbers and every other value (missing values as
          ``missing_token``) as a quoted string; predicate names are the
          feature names lower-cased, other characters than letters, digits
          and ``_`` replaced by ``_`` (``f_`` prefixed when needed, a suffix
          added on a clash). ``N=<v`` and ``N>v`` hold only for numbers
          (FOLD-R++'s semantics).
        - Exceptions are ``abK(X)`` clauses; a negated numeric test ``not (f
          <= v)`` (true for a non-number too) goes through its own clause
          ``numK(X) :- f(X,N), N=<v.``.
        - Two classes: ``target(X,positive)`` clauses as in FOLD-R++, plus
          ``target(X,other) :- not target(X,positive).``
        - More classes: the order of the rules (the first that fires
          decides) is written out: ``ruleK(X)`` holds when rule K's body holds
          and ``target(X,c) :- ruleK(X), not rule1(X), ..., not rule{K-1}(X).``;
          the default class is concluded when no rule fires.

        Parameters
        ----------
        target_name : str, default="label"
            Name of the predicted predicate: a lower-case letter, then
            letters, digits or ``_``.

        Returns
        -------
        program : str
            One clause per line, ``%`` comments first.

        Examples
        --------
        >>> import numpy as np
        >>> from sktrust.rules import FOLDSEClassifier
        >>> X = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0]] * 5)
        >>> y = np.array([0, 0, 1, 1] * 5)
        >>> print(FOLDSEClassifier(tail=0, positive_label=1).fit(X, y).to_asp())
        % FOLD program; facts: x0(X,Value). ... one per row X and feature.
        label(X,1) :- x0(X,N1), N1>2.0.
        label(X,0) :- not label(X,1).
        """
        check_is_fitted(self)
        if not isinstance(target_name, str) or not re.fullmatch(r"[a-z][A-Za-z0-9_]*",
                                                                 target_name):
            raise ValueError(
                f"target_name={target_name!r} is not an ASP predicate name: it must start "
                "with a lower-case letter followed by letters, digits or '_'."
            )
        names = self._feature_names()
        preds, taken = {}, set()
        for name in names:
            base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name.lower())
            if not base or not base[0].isalpha():
                base = "f_" + base
            pred, k = base, 1
            while pred in taken or pred == target_name:
                k += 1
                pred = f"{base}_{k}"
            taken.add(pred)
            preds[name] = pred
        aux = []

        def body_of(lits, abn):
            parts, var = [], {}
            for f, op, v in lits:
                p = preds[f]
                if op == "==":
                    parts.append(f"{p}(X,{_asp_const(v)})")
                elif op == "!=":
                    parts.append(f"not {p}(X,{_asp_const(v)})")
                elif op.startswith("not "):
                    sym = "=<" if op == "not <=" else ">"
                    aux.append(f"num{len(aux) + 1}(X) :- {p}(X,N), {_asp_compare('N', sym, v)}.")
                    parts.append(f"not num{len(aux)}(X)")
                else:
                    if f not in var:
                        var[f] = f"N{len(var) + 1}"
                        parts.append(f"{p}(X,{var[f]})")
                    sym = "=<" if op == "<=" else ">"
                    parts.append(_asp_compare(var[f], sym, v))
            parts += [f"not {a}(X)" for a in abn]
            return ", ".join(parts)

        n_top = len(self.rules_)
        first = preds[names[0]] if names else "feature"
        lines = [f"% FOLD program; facts: {first}(X,Value). ... one per row X and feature."]
        clauses = []
        if self.positive_class_ is not None:
            pos = _asp_const(self.positive_class_)
            for _, lits, abn in self.flat_rules_[:n_top]:
                clauses.append(f"{target_name}(X,{pos}) :- {body_of(lits, abn)}.")
            clauses.append(
                f"{target_name}(X,{_asp_const(self.default_class_)}) :- "
                f"not {target_name}(X,{pos})."
            )
        else:
            lines.append("% rule order is explicit: ruleK fires only if no earlier rule does.")
            for k, (head, lits, abn) in enumerate(self.flat_rules_[:n_top], start=1):
                clauses.append(f"rule{k}(X) :- {body_of(lits, abn)}.")
                earlier = "".join(f", not rule{j}(X)" for j in range(1, k))
                clauses.append(f"{target_name}(X,{_asp_const(head)}) :- rule{k}(X){earlier}.")
            none = ", ".join(f"not rule{j}(X)" for j in range(1, n_top + 1))
            default = _asp_const(self.default_class_)
            clauses.append(
                f"{target_name}(X,{default}) :- {none}." if none
                else f"{target_name}(X,{default})."
            )
        for head, lits, abn in self.flat_rules_[n_top:]:
            clauses.append(f"{head}(X) :- {body_of(lits, abn)}.")
        return "\n".join(lines + clauses + aux)

    def explain(self, X):
        """The rule and exceptions that decided each row.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Raw features.

        Returns
        -------
        explanation : shap.Explanation
            ``values[i, j]`` counts the literals on feature ``j`` in the
            clauses that decided row ``i``: the body of the rule that fired,
            or, when no rule fired, the bodies of the exceptions that blocked
            a rule whose body held (zero when no rule body held at all). These
            are evidence counts, not additive attributions. The attribute
            ``decisions`` holds one dict per row: ``prediction``, ``rule``
            (index into ``rules_`` or None) and ``text``, the deciding rule
            with each literal's truth value and the row's value, and each
            exception with whether it held.
        """
        import shap

        numbers, tokens = self._encode(X)
        names = self._feature_names()
        compiled = self._compiled()
        decided = self._decide(numbers, tokens)
        pred = self.predict(X)
        values = np.zeros(numbers.shape)
        decisions = []
        for i in range(numbers.shape[0]):
            row = np.array([i])
            k = int(decided[i])
            if k >= 0:
                lits, excs = compiled[k]
                for f, _, _ in lits:
                    values[i, f] += 1
                text = f"{_py(pred[i])!r} by rule {k + 1}:\n" + _explain_rule(
                    compiled[k], numbers, tokens, row, names, 1
                )
            else:
                parts = []
                for r, rule in enumerate(compiled):
                    lits, excs = rule
                    body = all(literal_mask(numbers, tokens, lt, row)[0] for lt in lits)
                    if body and lits:
                        for exc in excs:
                            if _holds(exc, numbers, tokens, row)[0]:
                                for f, _, _ in exc[0]:
                                    values[i, f] += 1
                    parts.append(
                        f"  rule {r + 1} ({self.rules_[r][0]!r}) does not fire:\n"
                        + _explain_rule(rule, numbers, tokens, row, names, 2)
                    )
                text = f"{_py(pred[i])!r} by default, no rule fired:\n" + "\n".join(parts)
            decisions.append(
                {"prediction": _py(pred[i]), "rule": k if k >= 0 else None, "text": text}
            )
        data = X.to_numpy(dtype=object) if isinstance(X, pd.DataFrame) else np.asarray(X)
        exp = shap.Explanation(values, base_values=np.zeros(len(values)), data=data,
                               feature_names=names)
        exp.decisions = decisions
        return exp

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


# ---------------------------------------------------------------------- #
# Helpers on rules
# ---------------------------------------------------------------------- #


def _py(value):
    return value.item() if isinstance(value, np.generic) else value


def _named_rule(rule, names):
    literals, exceptions = rule
    lits = [(names[f], op, v) for f, op, v in literals]
    return lits, [(None, *_named_rule(e, names)) for e in exceptions]


def _holds(rule, numbers, tokens, rows):
    literals, exceptions = rule
    if not literals:
        return np.zeros(len(rows), dtype=bool)
    mask = np.ones(len(rows), dtype=bool)
    for lit in literals:
        mask[mask] = literal_mask(numbers, tokens, lit, rows[mask])
    for exc in exceptions:
        if not mask.any():
            break
        mask[mask] = ~_holds(exc, numbers, tokens, rows[mask])
    return mask


_NEGATE = {"==": "!=", "!=": "==", "<=": "not <=", ">": "not >"}


def _tidy(literals, exceptions):
    """FOLD-R++'s tidy-up: fold one-literal exceptions in, merge bounds."""
    literals = list(literals)
    kept = []
    for _, lits, excs in exceptions:
        lits, excs = _tidy(lits, excs)
        if len(lits) == 1 and not excs:
            f, op, v = lits[0]
            literals.append((f, _NEGATE[op], v))
        else:
            kept.append((lits, excs))
    tokens = [lt for lt in literals if lt[1] not in ("<=", ">")]
    bounds = {}
    for f, op, v in literals:
        if op in ("<=", ">"):
            lo, hi = bounds.get(f, (-np.inf, np.inf))
            bounds[f] = (max(lo, v), hi) if op == ">" else (lo, min(hi, v))
    merged = []
    for f, (lo, hi) in bounds.items():
        if lo > -np.inf:
            merged.append((f, ">", lo))
        if hi < np.inf:
            merged.append((f, "<=", hi))
    ordered = [lt for lt in tokens if not lt[1].startswith("not")]
    ordered += merged + [lt for lt in tokens if lt[1].startswith("not")]
    return ordered, kept


def _flatten(rules):
    """Flat clauses ``(head, literals, abnormal)``; shared exceptions deduplicated."""
    top, abs_, seen = [], [], {}

    def visit(lits, excs):
        refs = tuple(visit(*e) for e in excs)
        key = (tuple(lits), refs)
        if key not in seen:
            seen[key] = f"ab{len(abs_) + 1}"
            abs_.append((seen[key], list(lits), list(refs)))
        return seen[key]

    for head, lits, excs in rules:
        lits, kept = _tidy(lits, excs)
        top.append((head, lits, [visit(*e) for e in kept]))
    return top + abs_


def _fmt(value):
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return repr(value)


def _asp_const(value):
    """An exact ASP constant: numbers as numbers, anything else a quoted string."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        text = str(value).replace("\\", "\\\\").replace("'", "\\'")
        return f"'{text}'"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(int(value))


def _asp_compare(var, sym, value):
    """``var`` compared with a number: ``N1>0.5``, ``N1> -2.0`` (a Prolog reader
    takes ``>-`` or ``=<-`` for one unknown operator, so a space goes first)."""
    const = _asp_const(value)
    return f"{var}{sym} {const}" if const.startswith("-") else f"{var}{sym}{const}"


def _literal_logic(lit, var, bound):
    """One literal in logic form; ``bound`` holds the features already bound to N<var>."""
    f, op, v = lit
    if op == "==":
        return f"{f}(X,{_fmt(v)})"
    if op == "!=":
        return f"not {f}(X,{_fmt(v)})"
    sym = "=<" if op.endswith("<=") else ">"
    test = f"N{var}{sym}{_fmt(v)}"
    if op.startswith("not"):
        return f"not ({f}(X,N{var}), {test})"
    if f in bound:
        return test
    bound.add(f)
    return f"{f}(X,N{var}), {test}"


def _clause_logic(clause, target_name):
    """One clause; ``target_name=None`` marks an exception (``ab``) clause."""
    head, lits, abn = clause
    head_text = f"{head}(X)" if target_name is None else f"{target_name}(X,{_fmt(head)})"
    var = {}
    bound = set()
    body = []
    for lt in lits:
        key = lt[0] if not lt[1].startswith("not") else (lt[0], len(var))
        var.setdefault(key, len(var) + 1)
        body.append(_literal_logic(lt, var[key], bound))
    body += [f"not {a}(X)" for a in abn]
    return f"{head_text} :- {', '.join(body)}."


def _literal_english(lit):
    f, op, v = lit
    words = {
        "==": "is",
        "!=": "is not",
        "<=": "<=",
        ">": ">",
    }
    if op.startswith("not "):  # not (f <= v): f > v, or f is missing / a category
        return f"{f} {'>' if op == 'not <=' else '<='} {_fmt(v)} (or not a number)"
    return f"{f} {words[op]} {_fmt(v)}"


def _body_english(lits, abn):
    text = " and ".join(_literal_english(lt) for lt in lits) or "always"
    if abn:
        text += ", unless " + " or ".join(f"exception {a} holds" for a in abn)
    return text


def _value_text(numbers, tokens, f, i):
    num = numbers[i, f]
    return _fmt(float(num)) if not np.isnan(num) else _fmt(str(tokens[i, f]))


def _explain_rule(rule, numbers, tokens, row, names, indent):
    lits, excs = rule
    pad = "  " * indent
    lines = []
    for lt in lits:
        ok = bool(literal_mask(numbers, tokens, lt, row)[0])
        f = lt[0]
        lines.append(
            f"{pad}[{'T' if ok else 'F'}] {_literal_english((names[f], lt[1], lt[2]))}"
            f" (value {_value_text(numbers, tokens, f, row[0])})"
        )
    for exc in excs:
        held = bool(_holds(exc, numbers, tokens, row)[0])
        lines.append(f"{pad}unless exception ({'holds' if held else 'does not hold'}):")
        lines.append(_explain_rule(exc, numbers, tokens, row, names, indent + 1))
    return "\n".join(lines)
