"""Unlearning benchmark: every unlearner against retraining, "do nothing" and fine-tuning.

Settings (one seed, CPU, one torch thread):

- digits, class-wise: forget every training row of class 3;
- digits, random: forget a random 10% of the training rows;
- breastw (UCI, bundled; Wisconsin breast cancer), random 10%. (Class-wise
  forgetting of a binary problem leaves one class, which nothing can be
  retrained on, so it is not run there.)

The model is ``MLPClassifier(64)`` trained on 80% of the training split; the
other 20% is the validation set on which :class:`UnlearningSearchCV` tunes
each unlearner's own parameters against retraining. Metrics are measured on
the test split (25%). Columns: UA (100 - accuracy on forget rows), RA
(accuracy on retain rows), TA (test accuracy, forgotten class dropped), MIA
(MIA-Efficacy, SVC attack), gap (average gap to Retrain over those four),
seconds (``unlearn`` only; for Retrain the refit). "speedup" is Retrain's
seconds over the method's. Run::

    python benchmarks/bench_unlearning.py

Measured here (2 shared CPU cores, one run; digits class 3): Retrain 0.75 s,
avg gap 0; SSD (alpha=100 chosen on validation) gap 0.37 in 0.05 s (15x
faster); SalUn gap 0.17 (6x); L1-sparse gap 6.1; prune-first + FT and plain
fine-tuning barely forget a whole class (gap 45-48). Random 10%: every tuned
method has a smaller gap than doing nothing (2.06): L1-sparse 1.17, SalUn
1.40, label-free SSD 1.69, SSD and prune-first 1.77.
"""

import time
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktrust.datasets import load_uci
from sktrust.metrics import align_classes, unlearning_report
from sktrust.unlearning import (
    L1SparseUnlearner,
    PruneFirstUnlearner,
    SalUnUnlearner,
    SSDUnlearner,
    UnlearningSearchCV,
)

SEED = 0
METHODS = {
    "SSD": (lambda est: SSDUnlearner(est, random_state=SEED),
            {"alpha": [2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0], "dampening": [0.5, 1.0]}),
    "SSD label-free": (lambda est: SSDUnlearner(est, importance="label_free",
                                                random_state=SEED),
                       {"alpha": [2.0, 3.0, 5.0, 7.0, 10.0, 20.0]}),
    "SalUn": (lambda est: SalUnUnlearner(est, random_state=SEED),
              {"lr": [0.003, 0.01, 0.03], "saliency_ratio": [0.3, 0.5],
               "epochs": [5, 10]}),
    "L1-sparse": (lambda est: L1SparseUnlearner(est, random_state=SEED),
                  {"gamma": [1e-3, 3e-3, 1e-2, 3e-2], "lr": [0.01, 0.03]}),
    "Prune first + FT": (lambda est: PruneFirstUnlearner(
        L1SparseUnlearner(gamma=0.0), estimator=est, random_state=SEED),
        {"unlearner__lr": [0.01, 0.03]}),
}


def _digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _breastw():
    X, y = load_uci("breastw", return_X_y=True)
    X = X.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    X = make_pipeline(SimpleImputer(strategy="median"), StandardScaler()).fit_transform(X)
    return X, (np.asarray(y) == "malignant").astype(int)


def run(name, X, y, forget_kind):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=SEED,
                                              stratify=y)
    X_fit, X_val, y_fit, y_val = train_test_split(X_tr, y_tr, test_size=0.2,
                                                  random_state=SEED, stratify=y_tr)
    if forget_kind == "class 3":
        f = y_fit == 3
        forget_classes = [3]
    else:
        rng = np.random.RandomState(SEED)
        f = np.zeros(len(y_fit), dtype=bool)
        f[rng.choice(len(y_fit), size=len(y_fit) // 10, replace=False)] = True
        forget_classes = None
    data = (X_fit[f], y_fit[f], X_fit[~f], y_fit[~f])
    mlp = MLPClassifier((64,), max_iter=200, random_state=SEED)
    start = time.perf_counter()
    mlp.fit(X_fit, y_fit)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    retrained = clone(mlp).fit(X_fit[~f], y_fit[~f])
    retrain_seconds = time.perf_counter() - start
    reference = align_classes(retrained, mlp.classes_)

    def row(method, model, seconds):
        r = unlearning_report(model, *data, X_te, y_te, reference=reference,
                              forget_classes=forget_classes)
        return {"data": name, "forget": forget_kind, "method": method,
                "UA": r["unlearning_accuracy"], "RA": r["remaining_accuracy"],
                "TA": r["test_accuracy"], "MIA": r["mia_efficacy"], "gap": r["avg_gap"],
                "seconds": seconds,
                "speedup": retrain_seconds / seconds if seconds > 0 else np.nan}

    frozen = FrozenEstimator(mlp)
    rows = [row("Retrain", reference, retrain_seconds), row("do nothing", mlp, 0.0)]
    ft = L1SparseUnlearner(frozen, gamma=0.0, epochs=1, random_state=SEED)
    ft.fit(X_fit, y_fit).unlearn(*data)
    rows.append(row("fine-tune 1 epoch", ft, ft.unlearn_time_))
    for method, (make, grid) in METHODS.items():
        search = UnlearningSearchCV(make(frozen), grid, random_state=SEED)
        search.fit(X_fit, y_fit, X_val=X_val, y_val=y_val).unlearn(*data)
        best = search.estimator_
        params = ", ".join(f"{k.split('__')[-1]}={v:g}"
                           for k, v in search.best_params_.items())
        label = f"{method} ({params})"
        rows.append(row(label, best, best.unlearn_time_))
    print(f"\n{name}, forget {forget_kind}: original fit {fit_seconds:.2f} s, "
          f"{int(f.sum())} forget rows")
    return rows


def main():
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rows = []
    X, y = _digits()
    rows += run("digits", X, y, "class 3")
    rows += run("digits", X, y, "random 10%")
    X, y = _breastw()
    rows += run("breastw", X, y, "random 10%")
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.round({"UA": 1, "RA": 1, "TA": 1, "MIA": 1, "gap": 2, "seconds": 3,
                           "speedup": 1}).to_string(index=False))


if __name__ == "__main__":
    main()
