"""Open-set benchmark: COSTARR and evidential scores against MSP, max-logit, energy.

Two open-set splits, three seeds each:

- digits: classes 0-5 known, 6-9 unknown (8x8 images, 64 features);
- ecoli (UCI, bundled): the four largest classes (cp, im, pp, imU) known, the
  four smallest (om, omL, imL, imS) unknown.

COSTARR, MSP, max-logit and energy score the *same* ``MLPClassifier(64)``;
the evidential and TLC classifiers train their own nets of the same width; DictAS
(training-free) uses the known training rows as its dictionary and the MLP's
closed-set predictions for OSCR. Seconds are
fit + scoring time (the MLP fit is counted once, in "mlp fit"). Run::

    python benchmarks/bench_open_set.py
"""

import time

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sktrust.datasets import load_uci, make_open_set_split
from sktrust.metrics import open_set_report
from sktrust.open_set import (
    COSTARROpenSet,
    DictASDetector,
    EvidentialClassifier,
    PostHocOpenSetClassifier,
    TLCClassifier,
)

SEEDS = (0, 1, 2)


def _digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y, list(range(6))


def _ecoli():
    bunch = load_uci("ecoli")
    X = bunch.data.select_dtypes("number").to_numpy(dtype=float)
    return X, np.asarray(bunch.target), ["cp", "im", "pp", "imU"]


def _methods(mlp):
    frozen = FrozenEstimator(mlp)
    return {
        "COSTARR": COSTARROpenSet(frozen),
        "MSP": PostHocOpenSetClassifier(frozen, method="msp"),
        "max-logit": PostHocOpenSetClassifier(frozen, method="max_logit"),
        "energy": PostHocOpenSetClassifier(frozen, method="energy"),
    }


def run_split(name, X, y, known, seed):
    unknown_label = "unknown" if y.dtype.kind in "OUS" else -1
    X_tr, X_te, y_tr, y_te = make_open_set_split(
        X, y, known_classes=known, test_size=0.3, unknown_label=unknown_label,
        random_state=seed)
    if name.startswith("ecoli"):  # digits are already in [0, 1]
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    rows = []
    start = time.perf_counter()
    mlp = MLPClassifier((64,), max_iter=500, random_state=seed).fit(X_tr, y_tr)
    rows.append({"data": name, "seed": seed, "method": "mlp fit",
                 "seconds": time.perf_counter() - start})
    models = _methods(mlp)
    models["Evidential"] = EvidentialClassifier(random_state=seed, device="cpu")
    models["TLC"] = TLCClassifier(random_state=seed, device="cpu")
    for method, model in models.items():
        start = time.perf_counter()
        model.fit(X_tr, y_tr)
        score = model.score_samples(X_te)
        closed = model.classes_[np.argmax(model.predict_proba(X_te), axis=1)]
        seconds = time.perf_counter() - start
        rows.append(_row(name, seed, method, y_te, score, closed, unknown_label, seconds))
    # DictAS as a known-ness score: the known training rows are the normal
    # dictionary (row features); closed-set predictions come from the MLP.
    start = time.perf_counter()
    score = DictASDetector().fit(X_tr).score_samples(X_te)
    rows.append(_row(name, seed, "DictAS (score)", y_te, score, mlp.predict(X_te),
                     unknown_label, time.perf_counter() - start))
    return rows


def _row(name, seed, method, y_te, score, closed, unknown_label, seconds):
    rep = open_set_report(y_te, score, closed, unknown_label=unknown_label)
    return {"data": name, "seed": seed, "method": method, "auroc": rep["auroc"],
            "fpr_at_95tpr": rep["fpr_at_95tpr"], "oscr": rep["oscr"],
            "closed_acc": rep["closed_set_accuracy"], "seconds": seconds}


def main():
    rows = []
    for name, loader in (("digits 0-5", _digits), ("ecoli 4/8", _ecoli)):
        X, y, known = loader()
        for seed in SEEDS:
            rows += run_split(name, X, y, known, seed)
    df = pd.DataFrame(rows)
    table = df.groupby(["data", "method"], sort=False).mean(numeric_only=True)
    table = table.drop(columns="seed")
    pd.set_option("display.width", 120)
    print(f"Mean over seeds {SEEDS} (higher AUROC/OSCR and lower FPR@95TPR are better)")
    print(table.round(4).to_string())
    for name in table.index.get_level_values(0).unique():
        sub = table.loc[name]
        ratio = sub.loc["COSTARR", "auroc"] / sub.loc["max-logit", "auroc"]
        print(f"{name}: AUROC ratio COSTARR / max-logit = {ratio:.4f}")


if __name__ == "__main__":
    main()
