"""Bag classification: MHIM-MIL vs attention MIL vs mean pooling.

Bags of twelve 8x8 digits, positive when they hold a 9 (three witnesses),
70 training and 40 test bags; bag ROC AUC, precision@1 of the instance
scores on positive test bags, and fit seconds, mean over seeds, all in the
same run.

Run: ``python benchmarks/bench_mil.py [--seeds 3]``
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from sktrust.datasets import make_bags
from sktrust.mil import MHIMMILClassifier


def main(n_seeds):
    X, y = load_digits(return_X_y=True)
    budget = dict(pretrain_epochs=15, max_epochs=10)
    models = {
        "MHIM-MIL": lambda s: MHIMMILClassifier(random_state=s, **budget),
        "MHIM-MIL (class-aware)": lambda s: MHIMMILClassifier(
            instance_score="class_aware", random_state=s, **budget),
        "attention MIL": lambda s: MHIMMILClassifier(
            mask_ratio_high=0.0, consistency_weight=0.0, random_state=s, **budget),
    }
    results = {}
    for seed in range(n_seeds):
        bags, labels, inst = make_bags(X / 16.0, y, bag_size=12, positive_class=9,
                                       witness_rate=0.25, n_bags=110, random_state=seed)
        tr, te, y_tr, y_te = bags[:70], bags[70:], labels[:70], labels[70:]
        pos = np.flatnonzero(y_te == 1)
        for name, make in models.items():
            t = time.perf_counter()
            clf = make(seed).fit(tr, y_tr)
            secs = time.perf_counter() - t
            scores = clf.instance_scores(te)
            p1 = np.mean([inst[70 + i][np.argmax(scores[i])] for i in pos])
            auc = roc_auc_score(y_te, clf.predict_proba(te)[:, 1])
            results.setdefault(name, []).append((auc, p1, secs))
        t = time.perf_counter()
        lr = LogisticRegression(max_iter=1000).fit([b.mean(axis=0) for b in tr], y_tr)
        secs = time.perf_counter() - t
        auc = roc_auc_score(y_te, lr.predict_proba([b.mean(axis=0) for b in te])[:, 1])
        results.setdefault("mean pooling + LR", []).append((auc, np.nan, secs))
    print(f"{'model':24s} {'bag AUC':>8s} {'prec@1':>7s} {'sec':>7s}")
    for name, values in results.items():
        values = np.asarray(values, dtype=float)
        auc, secs = values[:, 0].mean(), values[:, 2].mean()
        p1 = np.nan if np.isnan(values[:, 1]).all() else np.nanmean(values[:, 1])
        print(f"{name:24s} {auc:8.3f} {p1:7.3f} {secs:7.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    main(parser.parse_args().seeds)
