"""stnlib.metrics: values on hand-made outputs, and clear errors."""

import pytest
import torch

from stnlib import metrics


def test_error_and_accuracy_on_known_logits():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0], [1.0, 4.0, 0.0]])
    labels = torch.tensor([0, 1, 0, 2])
    assert metrics.error(logits, labels) == 50.0
    assert metrics.accuracy(logits, labels) == 0.5
    assert metrics.error(logits, logits.argmax(1)) == 0.0
    assert metrics.accuracy(logits, (logits.argmax(1) + 1) % 3) == 0.0
    assert metrics.predictions(logits).tolist() == [0, 1, 2, 1]


def test_metrics_refuse_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="targets must be N=2 class indices"):
        metrics.error(torch.zeros(2, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="outputs must"):
        metrics.accuracy(torch.zeros(2), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        metrics.error(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))


def test_auc_by_hand_with_ties():
    # positives score 0.9, 0.4, 0.4; negatives 0.4, 0.1: pairs (pos > neg) 2 + 1 + 1, ties 2 × 0.5
    scores = torch.tensor([0.9, 0.4, 0.4, 0.4, 0.1])
    labels = torch.tensor([1, 1, 1, 0, 0])
    assert metrics.auc(scores, labels) == pytest.approx((2 + 1.5 + 1.5) / 6)
    logits = torch.stack([torch.zeros(5), scores], 1)  # N×2 logits: the score is logit₁ − logit₀
    assert metrics.auc(logits, labels) == pytest.approx(5 / 6)
    assert metrics.auc(-scores, labels) == pytest.approx(1 / 6)
    assert metrics.auc(torch.zeros(4), torch.tensor([0, 1, 0, 1])) == 0.5


def test_auc_equals_scikit_learn():
    roc_auc_score = pytest.importorskip("sklearn.metrics").roc_auc_score  # installed with pyts
    g = torch.Generator().manual_seed(0)
    for n in (7, 50, 301):
        labels = torch.randint(0, 2, (n,), generator=g)
        labels[:2] = torch.tensor([0, 1])
        logits = (torch.randn(n, 2, generator=g) * 3).round() / 2  # many ties
        expected = roc_auc_score(labels.numpy(), (logits[:, 1] - logits[:, 0]).numpy())
        assert metrics.auc(logits, labels) == pytest.approx(expected, abs=1e-12)


def test_auc_refuses_one_class_and_other_tasks():
    with pytest.raises(ValueError, match="both classes"):
        metrics.auc(torch.rand(4), torch.ones(4, dtype=torch.long))
    with pytest.raises(ValueError, match="auc is for two classes"):
        metrics.auc(torch.rand(4, 3), torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="targets of auc must be 0 or 1"):
        metrics.auc(torch.rand(3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="targets must be N=3 labels"):
        metrics.auc(torch.rand(3), torch.tensor([0, 1]))


# --------------------------------------------------------------------------------------
# Segmentation: pooled pixel counts (KITTI road's devkit)
# --------------------------------------------------------------------------------------

def _masks_with_counts(tp, fp, fn, tn, shape=(3, 5, 7), seed=0):
    """Probabilities and masks whose pooled counts at threshold 0.5 are exactly (tp, fp, fn, tn)."""
    n = tp + fp + fn + tn
    assert n == shape[0] * shape[1] * shape[2]
    target = torch.tensor([1] * tp + [0] * fp + [1] * fn + [0] * tn)
    prob = torch.tensor([0.9] * tp + [0.7] * fp + [0.2] * fn + [0.1] * tn)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return prob[order].view(shape), target[order].view(shape)


def test_pixel_counts_are_pooled_over_images_by_hand():
    prob, target = _masks_with_counts(40, 10, 5, 50)
    assert metrics.pixel_counts(prob, target) == {"tp": 40, "fp": 10, "fn": 5, "tn": 50}
    s = metrics.segmentation_scores(prob, target)
    assert s["precision"] == pytest.approx(100 * 40 / 50)
    assert s["recall"] == pytest.approx(100 * 40 / 45)
    assert s["fpr"] == pytest.approx(100 * 10 / 60)
    assert s["f1"] == pytest.approx(100 * 80 / 95)
    # pooled, not a mean of per-image scores: one image all wrong, one all right
    prob = torch.tensor([[[0.9, 0.9]], [[0.9, 0.1]]])
    target = torch.tensor([[[0, 0]], [[1, 0]]])
    assert metrics.precision(prob, target) == pytest.approx(100 / 3)  # per-image mean: 50
    # a threshold moves pixels between the counts; >= threshold counts as road
    assert metrics.pixel_counts(torch.tensor([[[0.5, 0.49]]]), torch.tensor([[[1, 1]]])) == \
        {"tp": 1, "fp": 0, "fn": 1, "tn": 0}
    assert metrics.pixel_counts(prob, target, threshold=0.95)["tp"] == 0


def test_scores_from_counts_by_hand_and_zero_division():
    s = metrics.scores_from_counts(3, 1, 2, 4)
    assert s == pytest.approx({"precision": 75.0, "recall": 60.0, "fpr": 20.0, "f1": 600 / 9})
    assert metrics.scores_from_counts(0, 0, 0, 5) == {"precision": 0.0, "recall": 0.0, "fpr": 0.0,
                                                      "f1": 0.0}
    t = metrics.scores_from_counts(torch.tensor([3, 0]), torch.tensor([1, 0]), torch.tensor([2, 4]),
                                   torch.tensor([4, 6]))
    assert t["precision"].tolist() == [75.0, 0.0] and t["recall"].tolist() == [60.0, 0.0]
    with pytest.raises(ValueError, match="fp is a pixel count"):
        metrics.scores_from_counts(1, -1, 0, 0)


def test_segmentation_scores_equal_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(1)
    for counts in [(40, 10, 5, 50), (1, 0, 0, 104), (0, 3, 7, 95), (25, 30, 20, 30)]:
        prob, target = _masks_with_counts(*counts, seed=counts[0])
        y, p = target.flatten().numpy(), (prob >= 0.5).flatten().long().numpy()
        s = metrics.segmentation_scores(prob, target)
        assert s["precision"] == pytest.approx(100 * skm.precision_score(y, p, zero_division=0))
        assert s["recall"] == pytest.approx(100 * skm.recall_score(y, p, zero_division=0))
        assert s["f1"] == pytest.approx(100 * skm.f1_score(y, p, zero_division=0))
        tn, fp, fn, tp = skm.confusion_matrix(y, p, labels=[0, 1]).ravel()
        assert s["fpr"] == pytest.approx(100 * fp / (fp + tn))
        assert (tp, fp, fn, tn) == counts
    # logits: the road probability is the softmax of class 1
    logits = torch.randn(2, 2, 4, 4, generator=g)
    target = torch.randint(0, 2, (2, 4, 4), generator=g)
    y = target.flatten().numpy()
    p = (logits.softmax(1)[:, 1] >= 0.5).flatten().long().numpy()
    assert metrics.f1(logits, target) == pytest.approx(100 * skm.f1_score(y, p, zero_division=0))


def test_counts_over_thresholds_and_max_f():
    skm = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(2)
    target = torch.randint(0, 2, (4, 6, 6), generator=g)
    prob = (0.6 * target + 0.5 * torch.rand(4, 6, 6, generator=g)).clamp(0, 1)
    c = metrics.counts_over_thresholds(prob, target)
    assert c["thresholds"].shape == (256,)
    for j in (0, 50, 128, 200, 255):  # every threshold agrees with pixel_counts
        assert metrics.pixel_counts(prob, target, threshold=float(c["thresholds"][j])) == \
            {k: int(c[k][j]) for k in ("tp", "fp", "fn", "tn")}
    best, threshold = metrics.max_f(prob, target)
    expected = max(100 * skm.f1_score(target.flatten().numpy(),
                                      (prob >= t).flatten().long().numpy(), zero_division=0)
                   for t in metrics.KITTI_THRESHOLDS.tolist())
    assert best == pytest.approx(expected)
    assert metrics.segmentation_scores(prob, target, threshold=threshold)["f1"] == pytest.approx(best)
    # scikit-learn's precision-recall curve reaches the same best F1 over its own thresholds
    P, R, _ = skm.precision_recall_curve(target.flatten().numpy(), prob.flatten().numpy())
    f = 2 * P * R / (P + R + 1e-300)
    assert best <= 100 * f.max() + 1e-9
    best3, t3 = metrics.max_f(prob, target, thresholds=[0.2, 0.5, 0.8])
    assert t3 in (0.2, 0.5, 0.8)
    assert best3 == pytest.approx(max(metrics.segmentation_scores(prob, target, threshold=t)["f1"]
                                      for t in (0.2, 0.5, 0.8)))


def test_max_f_breaks_a_tie_with_the_smallest_best_threshold():
    # issue 25: the docstring's tie rule. Every threshold in (0.25, 0.75] separates road from the rest
    # (F1 100%); below it the background counts as road, above it the road is missed.
    p = torch.tensor([[[0.25, 0.75]]])
    y = torch.tensor([[[0, 1]]])
    assert metrics.max_f(p, y, thresholds=[0.1, 0.3, 0.5, 0.7, 0.9]) == (100.0, 0.3)
    best, threshold = metrics.max_f(p, y)  # the devkit's k / 255: 63/255 < 0.25 < 64/255
    assert best == 100.0 and threshold == pytest.approx(64 / 255, abs=0)
    # a tie below the best does not count: 0.1 and 0.2 tie at a lower F1
    assert metrics.max_f(p, y, thresholds=[0.1, 0.2, 0.6]) == (100.0, 0.6)


def test_segmentation_metrics_refuse_bad_input():
    with pytest.raises(ValueError, match="targets must be N×H×W = \\(2, 3, 3\\) masks"):
        metrics.pixel_counts(torch.rand(2, 3, 3), torch.zeros(2, 3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="two classes: outputs must be N×2×H×W"):
        metrics.f1(torch.rand(2, 3, 3, 3), torch.zeros(2, 3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="road probabilities and must lie in \\[0, 1\\]"):
        metrics.f1(torch.full((1, 2, 2), 1.5), torch.zeros(1, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="integer masks with values 0"):
        metrics.f1(torch.rand(1, 2, 2), torch.full((1, 2, 2), 2))
    with pytest.raises(ValueError, match="threshold must be a road probability"):
        metrics.pixel_counts(torch.rand(1, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long),
                             threshold=2)
    with pytest.raises(ValueError, match="increasing"):
        metrics.max_f(torch.rand(1, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long),
                      thresholds=[0.5, 0.2])


# ----------------------------------------------------------------- time-series baselines


def test_dtw_matches_pyts_and_ignores_a_time_shift():
    from pyts.metrics import dtw

    g = torch.Generator().manual_seed(0)
    A, B = torch.randn(3, 7, generator=g), torch.randn(2, 9, generator=g)
    d = metrics.dtw_distances(A, B)
    assert d.shape == (3, 2) and d.dtype == torch.float64
    for i in range(3):
        for j in range(2):
            assert d[i, j].item() == pytest.approx(dtw(A[i].double().numpy(), B[j].double().numpy()))
    bump = torch.zeros(1, 30)
    bump[0, 5:10] = 1.0
    later = bump.roll(8, 1)
    assert metrics.dtw_distances(bump, later).item() == 0.0  # a shifted bump: no cost after warping
    assert torch.cdist(bump, later).item() > 3
    with pytest.raises(ValueError, match="A and B must be n×L"):
        metrics.dtw_distances(torch.zeros(2, 1, 5), B)


def test_one_nn_error_by_hand():
    x = torch.tensor([[0.0, 0.0], [10.0, 10.0]])[:, None]
    y = torch.tensor([0, 1])
    test = torch.tensor([[1.0, 0.0], [9.0, 9.0], [6.0, 6.0]])[:, None]
    assert metrics.one_nn_error(x, y, test, torch.tensor([0, 1, 1])) == 0.0
    assert metrics.one_nn_error(x, y, test, torch.tensor([0, 1, 0])) == pytest.approx(1 / 3)
    # a bump (class 0) and a flat line (class 1); the test bump comes later: Euclidean calls it
    # flat, DTW warps it onto the bump
    bump = torch.zeros(2, 1, 30)
    bump[0, 0, 5:10] = 1.0
    later = bump[:1].roll(8, -1)
    assert metrics.one_nn_error(bump, y, later, torch.tensor([0])) == 1.0
    assert metrics.one_nn_error(bump, y, later, torch.tensor([0]), distance="dtw") == 0.0
    with pytest.raises(ValueError, match="distance must be"):
        metrics.one_nn_error(x, y, test, y, distance="manhattan")


def test_one_nn_error_matches_scikit_learn_with_pyts_dtw_on_noisy_cbf():
    # the reference: scikit-learn's 1-NN classifier, on the Euclidean distance or on
    # pyts.metrics.dtw's distances (precomputed)
    import numpy as np
    from pyts.datasets import make_cylinder_bell_funnel
    from pyts.metrics import dtw
    from sklearn.neighbors import KNeighborsClassifier

    X, y = make_cylinder_bell_funnel(n_samples=60, random_state=0)
    X = X[:, ::4] + np.random.default_rng(0).normal(0.0, 1.0, (60, 32))  # short and noisy: errors > 0
    (Xtr, ytr), (Xte, yte) = (X[:6], y[:6]), (X[6:], y[6:])
    args = [torch.tensor(Xtr)[:, None], torch.tensor(ytr), torch.tensor(Xte)[:, None], torch.tensor(yte)]
    euclid_ref = 1 - KNeighborsClassifier(n_neighbors=1).fit(Xtr, ytr).score(Xte, yte)
    pairwise = np.array([[dtw(a, b) for b in Xtr] for a in np.concatenate([Xtr, Xte])])
    knn = KNeighborsClassifier(n_neighbors=1, metric="precomputed").fit(pairwise[:6], ytr)
    dtw_ref = 1 - knn.score(pairwise[6:], yte)
    assert 0 < dtw_ref < euclid_ref
    assert metrics.one_nn_error(*args, distance="dtw") == pytest.approx(dtw_ref)
    assert metrics.one_nn_error(*args) == pytest.approx(euclid_ref)


def test_a_threshold_is_applied_the_same_way_by_every_segmentation_score():
    # 0.7 in float32 is 0.69999998...: below the threshold 0.7 in exact arithmetic. pixel_counts used
    # to compare in float32 (0.7f >= 0.7f: road) while max_f compared in float64 (not road).
    p, y = torch.tensor([[[0.7]]]), torch.tensor([[[1]]])
    assert metrics.pixel_counts(p, y, threshold=0.7) == {"tp": 0, "fp": 0, "fn": 1, "tn": 0}
    best, threshold = metrics.max_f(p, y, thresholds=[0.7])
    assert best == metrics.segmentation_scores(p, y, threshold=threshold)["f1"] == 0.0
    g = torch.Generator().manual_seed(3)
    probs, masks = torch.rand(4, 8, 8, generator=g), torch.randint(0, 2, (4, 8, 8), generator=g)
    ts = torch.linspace(0.05, 0.95, 19, dtype=torch.float64)
    c = metrics.counts_over_thresholds(probs, masks, ts)
    for j, t in enumerate(ts.tolist()):
        counts = metrics.pixel_counts(probs, masks, threshold=t)
        assert counts == {k: int(c[k][j]) for k in ("tp", "fp", "fn", "tn")}, t


def test_image_counts_sum_to_the_pooled_counts_and_resample_by_image():
    g = torch.Generator().manual_seed(3)
    prob = torch.rand(5, 6, 7, generator=g)
    target = (torch.rand(5, 6, 7, generator=g) < 0.4).long()
    for threshold in (0.3, 0.5, 0.7):
        per = metrics.image_counts(prob, target, threshold=threshold)
        assert per.shape == (5, 4) and per.dtype == torch.int64
        assert (per.sum(1) == 42).all()
        pooled = metrics.pixel_counts(prob, target, threshold=threshold)
        assert per.sum(0).tolist() == [pooled[k] for k in ("tp", "fp", "fn", "tn")]
        # pooled_f1 of all rows is segmentation_scores' F1; of one row, that image's own F1
        assert metrics.pooled_f1(per) == pytest.approx(
            metrics.segmentation_scores(prob, target, threshold=threshold)["f1"])
        assert metrics.pooled_f1(per[2:3]) == pytest.approx(
            metrics.segmentation_scores(prob[2:3], target[2:3], threshold=threshold)["f1"])
    # the same image twice in a resample counts twice: pooling, not a mean of per-image F1
    per = metrics.image_counts(prob, target)
    twice = per[[0, 0, 1]]
    tp, fp, fn = (2 * per[0, :3] + per[1, :3]).tolist()
    assert metrics.pooled_f1(twice) == pytest.approx(200 * tp / (2 * tp + fp + fn))
    # logits are accepted as well as probabilities, with the devkit's >= rule at the threshold
    assert metrics.image_counts(torch.tensor([[[0.5, 0.49]]]), torch.tensor([[[1, 1]]])).tolist() == [[1, 0, 1, 0]]
    assert metrics.pooled_f1(torch.zeros(3, 4, dtype=torch.long)) == 0.0
    with pytest.raises(ValueError, match="K×4"):
        metrics.pooled_f1(torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="threshold"):
        metrics.image_counts(prob, target, threshold=1.5)
