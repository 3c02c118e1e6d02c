"""FOLDSEClassifier.to_asp(): the program text, run by a small independent evaluator."""

import re

import numpy as np
import pandas as pd
import pytest

from sktrust.datasets import load_uci
from sktrust.rules import FOLDSEClassifier
from sktrust.rules._literals import encode_table


def _split_top(text):
    """Split at commas outside quotes and parentheses."""
    parts, depth, quote, cur, i = [], 0, False, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            cur += ch
            if ch == "\\":
                cur += text[i + 1]
                i += 1
            elif ch == "'":
                quote = False
        elif ch == "'":
            quote, cur = True, cur + ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
            cur += ch
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _const(text):
    if text.startswith("'"):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return float(text)


class _Program:
    """Evaluates the stratified, non-recursive programs that to_asp writes."""

    def __init__(self, text):
        self.clauses = []
        for line in text.splitlines():
            if not line or line.startswith("%"):
                continue
            assert line.endswith("."), line
            head, _, body = line[:-1].partition(" :- ")
            name, args = re.fullmatch(r"(\w+)\((.*)\)", head).groups()
            args = _split_top(args)
            assert args[0] == "X"
            self.clauses.append((name, args[1:], _split_top(body) if body else []))
        self.derived = {c[0] for c in self.clauses}

    def holds(self, name, args, facts, memo):
        key = (name, tuple(args))
        if key not in memo:
            memo[key] = any(
                [_const(a) for a in cargs] == args and self.body(body, facts, memo)
                for cname, cargs, body in self.clauses
                if cname == name
            )
        return memo[key]

    def body(self, parts, facts, memo):
        env = {}
        for part in parts:
            negated = part.startswith("not ")
            atom = part[4:] if negated else part
            m = re.fullmatch(r"(N\d*)(=<|>)(.+)", atom)
            if m:  # comparison on a bound variable: numbers only
                value, op, bound = env[m.group(1)], m.group(2), float(m.group(3))
                ok = isinstance(value, float) and (value <= bound if op == "=<" else value > bound)
            else:
                name, args = re.fullmatch(r"(\w+)\((.*)\)", atom).groups()
                args = _split_top(args)[1:]
                if name in self.derived:
                    ok = self.holds(name, [_const(a) for a in args], facts, memo)
                elif re.fullmatch(r"N\d*", args[0]):
                    env[args[0]] = facts[name]
                    ok = True
                else:
                    want = _const(args[0])
                    ok = type(facts[name]) is type(want) and facts[name] == want
            if ok == negated:
                return False
        return True

    def predict(self, facts_rows, classes, target="label"):
        out = []
        for facts in facts_rows:
            memo = {}
            held = [c for c in classes if self.holds(target, [c], facts, memo)]
            assert len(held) == 1, held  # exactly one conclusion per row
            out.append(held[0])
        return out


def _facts(clf, X, program):
    """Facts ``feature(X, value)`` per row: numbers as floats, other values as tokens."""
    numbers, tokens = encode_table(X, clf.categorical_mask_, clf.missing_token)
    names = re.findall(r"% FOLD program; facts: (\w+)", program)
    assert names
    preds = [
        "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in str(n).lower())
        for n in clf._feature_names()
    ]
    preds = [p if p and p[0].isalpha() else "f_" + p for p in preds]
    assert len(set(preds)) == len(preds)
    rows = []
    for i in range(numbers.shape[0]):
        rows.append({
            p: (float(numbers[i, j]) if not np.isnan(numbers[i, j]) else str(tokens[i, j]))
            for j, p in enumerate(preds)
        })
    return rows


def _as_asp(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        return str(value)
    return float(value)


@pytest.mark.parametrize("name, kwargs", [
    ("kidney", {}),
    ("heart", {"tail": 0}),
    ("credit", {"criterion": "info_gain", "tail": 0}),
    ("ecoli", {}),            # 8 classes: the rule order written out
    ("anneal", {"tail": 0}),  # mixed types and missing values, several classes
])
def test_the_asp_program_reproduces_predict_when_run(name, kwargs):
    X, y = load_uci(name, return_X_y=True)
    clf = FOLDSEClassifier(**kwargs).fit(X, y)
    program = clf.to_asp()
    run = _Program(program)
    X = X.iloc[:400]  # the evaluator is plain Python: a few hundred rows suffice
    facts = _facts(clf, X, program)
    classes = [_as_asp(c) for c in clf.classes_]
    got = run.predict(facts, classes)
    expected = [_as_asp(c) for c in clf.predict(X)]
    assert got == expected
    # Perturbed rows too: values moved off the thresholds, unseen tokens.
    rng = np.random.RandomState(0)
    Xp = X.copy()
    for col in Xp.columns:
        if pd.api.types.is_numeric_dtype(Xp[col]):
            Xp[col] = Xp[col] + rng.choice([-1.0, 0.0, 1.0], size=len(Xp))
        else:
            Xp.loc[rng.rand(len(Xp)) < 0.1, col] = "unseen"
    assert run.predict(_facts(clf, Xp, program), classes) == [
        _as_asp(c) for c in clf.predict(Xp)
    ]


def test_the_asp_program_has_the_documented_shape():
    X, y = load_uci("ecoli", return_X_y=True)
    multi = FOLDSEClassifier().fit(X, y).to_asp()
    assert "rule2(X) :- " in multi and ", not rule1(X)." in multi
    assert re.search(r"^label\(X,'\w+'\) :- not rule1\(X\)", multi, re.M)
    X, y = load_uci("kidney", return_X_y=True)
    clf = FOLDSEClassifier(tail=0).fit(X, y)
    binary = clf.to_asp(target_name="ckd")
    pos, other = clf.positive_class_, clf.default_class_
    assert f"ckd(X,'{other}') :- not ckd(X,'{pos}')." in binary
    assert binary.count(f"ckd(X,'{pos}') :- ") == len(clf.rules_)
    assert binary.count("\nab") == clf.n_rules_ - len(clf.rules_)


def test_to_asp_prints_thresholds_exactly_and_quotes_strings():
    X = pd.DataFrame({"Blood Pressure": [0.1 + 0.2, 0.5, 0.7, 0.9] * 5,
                      "kind": ["it's", "b", "it's", "b"] * 5})
    y = np.array(["no", "no", "yes", "yes"] * 5)
    clf = FOLDSEClassifier(tail=0, positive_label="yes").fit(X, y)
    program = clf.to_asp()
    assert "blood_pressure(X,N1), N1>0.5" in program or "kind(X,'it\\'s')" in program
    run = _Program(program)
    assert run.predict(_facts(clf, X, program), ["no", "yes"]) == list(clf.predict(X))
    with pytest.raises(Exception, match="not fitted"):
        FOLDSEClassifier().to_asp()
    for bad in ("Label", "my label", "1st", ""):
        with pytest.raises(ValueError, match="not an ASP predicate name"):
            clf.to_asp(target_name=bad)


def test_to_asp_writes_the_exact_threshold_and_escapes_quotes_and_backslashes():
    # 0.1 + 0.2 is 0.30000000000000004: a rounded "0.3" would move the split.
    X = pd.DataFrame({"Blood Pressure": [0.1, 0.1 + 0.2, 0.7, 0.9] * 5})
    y = np.array(["no", "no", "yes", "yes"] * 5)
    clf = FOLDSEClassifier(tail=0, positive_label="yes").fit(X, y)
    program = clf.to_asp()
    assert "label(X,'yes') :- blood_pressure(X,N1), N1>0.30000000000000004." in program
    # A quote in a label, a backslash in a value: both escaped inside '...'.
    X = pd.DataFrame({"kind": ["b\\c", "z", "w", "z"] * 5})
    y = np.array(["it's", "no", "no", "no"] * 5)
    clf = FOLDSEClassifier(tail=0, positive_label="it's").fit(X, y)
    program = clf.to_asp()
    assert "label(X,'it\\'s') :- kind(X,'b\\\\c')." in program
    run = _Program(program)
    assert run.predict(_facts(clf, X, program), ["no", "it's"]) == list(clf.predict(X))


def test_negative_thresholds_are_not_glued_to_the_comparison():
    # Prolog reads ">-" and "=<-" as one (unknown) operator: "N1>-2.0" is a syntax error.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.uniform(-5, -1, 200), "b": rng.uniform(-5, -1, 200)})
    y = np.where((X["a"] > -3) & ~((X["b"] <= -4) & (X["a"] > -2)), "yes", "no")
    clf = FOLDSEClassifier(tail=0, positive_label="yes").fit(X, y)
    program = clf.to_asp()
    assert re.search(r"(>|=<) -\d", program), program
    assert not re.search(r"(>|=<)-", program), program
    run = _Program(program)
    assert run.predict(_facts(clf, X, program), ["no", "yes"]) == list(clf.predict(X))
