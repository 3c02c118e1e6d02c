"""Behaviour of PLSLSAClassifier: detection and relabelling while training."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sktrust.datasets import flip_labels
from sktrust.noisy_labels import PLSLSAClassifier

SEEDS = range(3)
MAX_EPOCHS = 30


@pytest.fixture(scope="module")
def noisy_digits_runs():
    """PLS-LSA and the same net without detection, on digits with 20% symmetric flips."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    runs = []
    for seed in SEEDS:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed,
                                              stratify=y)
        y_noisy, flipped = flip_labels(ytr, 0.2, random_state=seed)
        common = dict(hidden_layer_sizes=(64,), max_epochs=MAX_EPOCHS, random_state=seed)
        pls = PLSLSAClassifier(**common).fit(Xtr, y_noisy)
        # warmup past the last epoch: no detection ever runs, plain cross-entropy
        # (mixup and the contrastive term are off by default).
        plain = PLSLSAClassifier(warmup=MAX_EPOCHS + 1, **common).fit(Xtr, y_noisy)
        runs.append(dict(pls=pls, plain=plain, Xte=Xte, yte=yte, flipped=flipped,
                         y_clean=ytr, y_noisy=y_noisy, X_train=Xtr))
    return runs


def test_plslsa_beats_same_net_trained_on_noisy_labels(noisy_digits_runs):
    pls = np.array([r["pls"].score(r["Xte"], r["yte"]) for r in noisy_digits_runs])
    plain = np.array([r["plain"].score(r["Xte"], r["yte"]) for r in noisy_digits_runs])
    assert np.all(pls > plain)
    assert pls.mean() > plain.mean() + 0.03  # card: more than 3 points


def test_plslsa_flags_the_flipped_rows(noisy_digits_runs):
    for r in noisy_digits_runs:
        mask, flipped = r["pls"].noisy_mask_, r["flipped"]
        precision = (mask & flipped).sum() / mask.sum()
        recall = (mask & flipped).sum() / flipped.sum()
        assert precision > 0.8 and recall > 0.8


def test_relabelled_rows_mostly_recover_the_clean_label(noisy_digits_runs):
    for r in noisy_digits_runs:
        mask = r["pls"].noisy_mask_ & r["flipped"]
        recovered = np.mean(r["pls"].pseudo_labels_[mask] == r["y_clean"][mask])
        assert recovered > 0.8
        unflagged = ~r["pls"].noisy_mask_
        np.testing.assert_array_equal(r["pls"].pseudo_labels_[unflagged],
                                      r["y_noisy"][unflagged])


def test_plain_run_records_no_detection(noisy_digits_runs):
    plain = noisy_digits_runs[0]["plain"]
    assert plain.detection_history_.shape[0] == 0
    assert not plain.noisy_mask_.any()
    np.testing.assert_array_equal(plain.sample_weight_, 1.0)


def test_modes_alternate_from_the_first_detection_epoch(noisy_digits_runs):
    pls = noisy_digits_runs[0]["pls"]
    n_detections = MAX_EPOCHS - pls.warmup + 1
    assert pls.detection_history_.shape == (n_detections, len(pls.noisy_mask_))
    # Epoch e (0-based) uses alternate[e % 2]; the first detection is epoch warmup - 1.
    expected = [("linear", "loss")[e % 2] for e in range(pls.warmup - 1, MAX_EPOCHS)]
    assert pls.mode_history_ == expected


def test_sample_weights_are_one_for_clean_rows_and_in_unit_interval(noisy_digits_runs):
    pls = noisy_digits_runs[0]["pls"]
    w = pls.sample_weight_
    np.testing.assert_array_equal(w[~pls.noisy_mask_], 1.0)
    assert np.all((w >= 0) & (w <= 1))


@pytest.fixture(scope="module")
def lsa_plus_runs(noisy_digits_runs):
    """The paper's full recipe (co-training, mixup, SupCon) and a mixup-only plain net.

    Two of the three seeds: co-training doubles the cost of a run.
    """
    runs = []
    for seed, r in zip(SEEDS[:2], noisy_digits_runs):
        common = dict(hidden_layer_sizes=(64,), max_epochs=MAX_EPOCHS, random_state=seed)
        X = r["X_train"]
        full = PLSLSAClassifier(co_train=True, mixup_alpha=1.0, contrastive_weight=0.1,
                                **common).fit(X, r["y_noisy"])
        mix_plain = PLSLSAClassifier(warmup=MAX_EPOCHS + 1, mixup_alpha=1.0,
                                     **common).fit(X, r["y_noisy"])
        runs.append(dict(full=full, mix_plain=mix_plain))
    return runs


def test_lsa_plus_with_mixup_and_supcon_beats_the_plain_net(noisy_digits_runs, lsa_plus_runs):
    full = np.array([m["full"].score(r["Xte"], r["yte"]) for m, r in
                     zip(lsa_plus_runs, noisy_digits_runs)])
    plain = np.array([r["plain"].score(r["Xte"], r["yte"])
                      for r in noisy_digits_runs[:len(full)]])
    assert np.all(full > plain)
    assert full.mean() > plain.mean() + 0.03  # card check 2: > baseline + 3 points


def test_mixup_alone_makes_the_net_more_robust_to_flipped_labels(noisy_digits_runs,
                                                                 lsa_plus_runs):
    # Mixup's own claim (Zhang et al. 2018): less memorisation of wrong labels.
    mix = np.array([m["mix_plain"].score(r["Xte"], r["yte"]) for m, r in
                    zip(lsa_plus_runs, noisy_digits_runs)])
    plain = np.array([r["plain"].score(r["Xte"], r["yte"])
                      for r in noisy_digits_runs[:len(mix)]])
    assert mix.mean() > plain.mean() + 0.03
    assert lsa_plus_runs[0]["mix_plain"].detection_history_.shape[0] == 0


def test_co_training_flags_a_row_only_when_both_nets_flag_it(noisy_digits_runs,
                                                             lsa_plus_runs):
    full = lsa_plus_runs[0]["full"]
    members = full.member_detection_history_
    assert members.shape == (full.detection_history_.shape[0], 2, len(full.noisy_mask_))
    # Card check 4: the co-trained flags are a subset of each single net's flags.
    np.testing.assert_array_equal(full.detection_history_, members[:, 0] & members[:, 1])
    assert (members[:, 0] != members[:, 1]).any()  # two distinct nets
    flipped = noisy_digits_runs[0]["flipped"]
    mask = full.noisy_mask_
    assert (mask & flipped).sum() / mask.sum() > 0.8
    assert (mask & flipped).sum() / flipped.sum() > 0.8


def test_co_trained_prediction_averages_the_two_nets(noisy_digits_runs, lsa_plus_runs):
    import torch

    full = lsa_plus_runs[0]["full"]
    X = noisy_digits_runs[0]["Xte"][:20]
    x = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        mean = torch.stack([m(x).softmax(dim=1) for m in full.net_.module_.members]).mean(0)
    np.testing.assert_allclose(full.predict_proba(X), mean.numpy(), rtol=1e-4, atol=1e-6)
    # The pair of nets survives pickling (weights stored as numpy).
    import pickle

    again = pickle.loads(pickle.dumps(full))
    np.testing.assert_allclose(again.predict_proba(X), full.predict_proba(X), atol=1e-6)


def test_balance_penalty_stops_one_way_noise_from_taking_over():
    # Three balanced digit classes; 40% of classes 1 and 2 labelled 0, so the
    # labels say 60% class 0. KL(uniform || mean prediction) pulls the
    # predicted shares back towards the true (uniform) ones.
    X, y = load_digits(n_class=3, return_X_y=True)
    X = StandardScaler().fit_transform(X)
    share0, acc = {False: [], True: []}, {False: [], True: []}
    for seed in SEEDS:
        rng = np.random.RandomState(seed)
        y_noisy = y.copy()
        for c in (1, 2):
            rows = rng.choice(np.flatnonzero(y == c), round(0.4 * (y == c).sum()),
                              replace=False)
            y_noisy[rows] = 0
        for penalty in (False, True):
            clf = PLSLSAClassifier(hidden_layer_sizes=(16,), max_epochs=15, warmup=16,
                                   balance_penalty=penalty, random_state=seed)
            pred = clf.fit(X, y_noisy).predict(X)
            share0[penalty].append(np.mean(pred == 0))
            acc[penalty].append(np.mean(pred == y))
    assert abs(np.mean(share0[True]) - 1 / 3) < abs(np.mean(share0[False]) - 1 / 3)
    assert np.mean(acc[True]) > np.mean(acc[False]) + 0.03


def test_plslsa_keeps_string_labels():
    X, y = load_digits(n_class=3, return_X_y=True)
    labels = np.array(["a", "b", "c"])[y]
    clf = PLSLSAClassifier(hidden_layer_sizes=(8,), max_epochs=4, warmup=2,
                           random_state=0).fit(X, labels)
    assert set(clf.predict(X[:20])) <= set(labels)
    assert set(clf.pseudo_labels_) <= set(labels)


def test_plslsa_rejects_one_class_and_bad_schedule():
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="only one class"):
        PLSLSAClassifier(max_epochs=1).fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="alternate"):
        PLSLSAClassifier(max_epochs=1, alternate=("linear", "bogus")).fit(
            X, np.arange(20) % 2)


@pytest.mark.parametrize("sizes", [(0,), (16, -2), ("a",)])
def test_plslsa_rejects_layer_widths_that_are_not_positive_ints(sizes):
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive ints"):
        PLSLSAClassifier(max_epochs=1, hidden_layer_sizes=sizes).fit(X, np.arange(20) % 2)
