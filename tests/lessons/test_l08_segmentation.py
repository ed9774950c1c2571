"""Lesson 08's companion module: the published values, budgets, scores of a known predictor, the
grid displacement and coverage of known θ, the decoder ablation, and the two exercise checks with
right and wrong answers."""

import re

import pytest
import torch
from checks import assert_check
from torch import nn

from stnlib import data, decoder, metrics
from stnlib.data.samples import Samples
from stnlib.decoder import scatter_decode
from stnlib.grids import affine_grid
from stnlib.lessons import l08_segmentation as L
from stnlib.models.unet import UNet
from stnlib.theta import affine_theta


def test_published_values_are_consistent():
    assert len(L.PAPER_TABLE2) == 12  # depth 4: 2, 3, none; 5: 2-4, none; 6: 2-5, none
    assert L.PAPER_TABLE2[5, 2] == (92.86, 92.91, 92.81, 1.57)
    assert L.PAPER_TABLE2[5, None] == (95.75, 94.65, 96.88, 1.22)
    for (depth, position), (f1, p, r, fpr) in L.PAPER_TABLE2.items():
        assert position is None or 2 <= position <= depth - 1
        assert f1 == pytest.approx(2 * p * r / (p + r), abs=0.02), (depth, position)  # F1 = 2PR/(P+R)
        assert 0 < fpr < 2


def test_budgets_and_positions():
    ctx = L.start("smoke", 0, "cpu")
    assert ctx.lesson == "08" and ctx.budget.epochs == 2 and ctx.budget.settings.in_size == 32
    std = L.SETTINGS["standard"]
    assert std.depths == (4,) and L.positions_of(4, std) == (2, 3)
    assert L.positions_of(6, L.SETTINGS["full"]) == (2, 3, 4, 5)
    assert L.positions_of(6, L.Settings(positions=(2, 5, 7))) == (2, 5)
    assert L.BUDGET_CHANGES["standard"]["n_train"] == 150 and std.n_val == 79  # the paper's split
    assert L.BUDGET_CHANGES["full"]["epochs"] == 4000 and L.SETTINGS["full"].in_size == 256


def test_load_splits_sizes_and_masks():
    ctx = L.start("smoke", 0, "cpu")
    tr, va, te = L.load_splits(ctx.budget.settings, ctx.budget)
    assert (len(tr), len(va), len(te)) == (20, 10, 10)
    assert tr.images.shape == (20, 3, 32, 32) and te.labels.shape == (10, 32, 32)
    assert set(te.labels.unique().tolist()) <= {0, 1}
    again = data.load("roads", "test", n=10, size=32, **dict(L.HARD_SCENES))
    assert torch.equal(again.images, te.images)
    with pytest.raises(ValueError, match="settings.dataset must be"):
        L.load_splits(L.Settings(dataset="cityscapes"), ctx.budget)


class _Oracle(nn.Module):
    """Logits from the image's channel 0, which holds the mask (a predictor with known scores)."""

    def __init__(self, flip=None):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))
        self.flip = flip

    def forward(self, x):
        m = x[:, 0]
        if self.flip is not None:
            m = torch.where(self.flip[: len(m)], 1 - m, m)
        return torch.stack([-4 * (2 * m - 1), 4 * (2 * m - 1)], 1) * self.w


def _samples(masks):
    return Samples(masks[:, None].float().expand(-1, 3, -1, -1).clone(), masks)


def test_score_of_a_known_predictor():
    g = torch.Generator().manual_seed(3)
    masks = (torch.rand(6, 8, 8, generator=g) < 0.4).long()
    val, test = _samples(masks[:3]), _samples(masks[3:])
    s = L.score(_Oracle(), val, test, "cpu")
    assert s["f1"] == s["precision"] == s["recall"] == s["max_f"] == s["val_max_f"] == 100.0
    assert s["fpr"] == 0.0
    flip = torch.zeros(3, 8, 8, dtype=torch.bool)
    flip[0, 0, :4] = True  # four pixels of the first test image wrong
    s = L.score(_Oracle(flip), val, test, "cpu")
    tm = masks[3:]
    wrong_road = int(tm[0, 0, :4].sum())
    tp = int(tm.sum()) - wrong_road
    fp = 4 - wrong_road
    assert s["f1"] == pytest.approx(200 * tp / (2 * tp + fp + wrong_road))


class _Probabilities(nn.Module):
    """Road probabilities read from the image's channel 0 (N×H×W)."""

    def forward(self, x):
        return x[:, 0]


def test_max_f_threshold_is_chosen_on_validation_and_applied_to_test():
    # issue 25: the MaxF threshold must come from the validation split, never from the test split.
    # Validation separates road (0.6) from background (0.3) only above 0.3; test (0.2 vs 0.1) above 0.1.
    from stnlib import metrics

    val = Samples(torch.tensor([[[[0.3, 0.6]]]]), torch.tensor([[[0, 1]]]))
    test = Samples(torch.tensor([[[[0.1, 0.2]]]]), torch.tensor([[[0, 1]]]))
    s = L.score(_Probabilities(), val, test, "cpu")
    assert s["threshold"] == pytest.approx(77 / 255, abs=0)  # the smallest k/255 above 0.3
    assert metrics.max_f(test.images[:, 0], test.labels) == (100.0, pytest.approx(26 / 255, abs=0))
    assert s["val_max_f"] == 100.0
    assert s["max_f"] == 0.0  # at validation's threshold the test road (0.2) is missed
    assert s["f1"] == 0.0 and s["fpr"] == 0.0  # at 0.5 nothing is road


def test_trivial_f1():
    labels = torch.tensor([[[1, 0], [0, 0]]])  # road fraction 1/4: F1 of "all road" = 2·0.25/1.25
    assert L.trivial_f1(labels) == pytest.approx(40.0)
    assert L.trivial_f1(torch.ones(1, 2, 2)) == pytest.approx(100.0)


def _unet_with_theta(theta, **kw):
    torch.manual_seed(0)
    net = UNet(3, base=2, in_size=16, position=1, **kw)
    head = net.transformer.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(theta.reshape(-1))
    return net


def test_grid_displacement_of_known_theta():
    x = torch.rand(3, 3, 16, 16)
    assert L.grid_displacement(_unet_with_theta(affine_theta(0.0)), x, "cpu").abs().max() < 1e-6
    d = L.grid_displacement(_unet_with_theta(affine_theta(translation=(0.25, 0.0))), x, "cpu")
    torch.testing.assert_close(d, torch.full((3,), 0.25 * 16 / 2))  # 2 input pixels
    d = L.grid_displacement(_unet_with_theta(affine_theta(scale=0.5)), x, "cpu")
    assert (d > 0.5).all()


def test_without_decoder_is_a_copy_and_changes_a_warped_network():
    net = _unet_with_theta(affine_theta(translation=(0.25, 0.0))).eval()
    ablated = L.without_decoder(net)
    assert ablated.decoder is None and net.decoder is not None
    x = torch.rand(2, 3, 16, 16)
    assert (ablated(x) - net(x)).abs().max() > 1e-5
    with pytest.raises(ValueError, match="needs a UNet with a transformer and a decoder"):
        L.without_decoder(UNet(3, base=2, in_size=16))


def test_cpu_seconds_per_epoch_leaves_the_model_alone():
    net = UNet(3, base=2, in_size=16, position=2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    tr = _samples((torch.rand(12, 16, 16) < 0.5).long())
    t = L.cpu_seconds_per_epoch(net, tr, batch_size=4, steps=1, device="cpu")
    assert t > 0
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_coverage_of_known_warps():
    assert L.coverage(affine_theta(0.0)[None], (8, 8)).all()
    # the picture moves 1 px right: output pixel j reads input pixel j - 1, so nothing lands on
    # the last column
    shifted = L.coverage(affine_theta(translation=(0.25, 0.0))[None], (8, 8))
    assert not shifted[..., -1].any() and shifted[..., :-1].all()
    zoom_in = L.coverage(affine_theta(scale=2.0)[None], (16, 16))  # reads the middle half only
    assert zoom_in[..., 4:12, 4:12].all() and not zoom_in[..., :3, :].any()
    zoom_out = L.coverage(affine_theta(scale=1 / 3)[None], (16, 16))  # samples 3 px apart
    assert 0 < zoom_out.double().mean() < 0.8  # holes between the landing points
    # decode(encode(U)) = U on covered pixels for a whole-pixel shift
    U = torch.rand(1, 2, 8, 8, dtype=torch.float64)
    th = affine_theta(translation=(0.25, 0.0), dtype=torch.float64)[None]
    D = L.round_trip_reference(U, th)
    torch.testing.assert_close(D[..., :-1], U[..., :-1], rtol=0, atol=1e-12)
    assert (D[..., -1] == 0).all()


# ----------------------------------------------------------------------- exercise checks

def wrong_fpr_only(pred, target):
    out = L.road_scores_reference(pred, target).clone()
    out[2] += 1.0
    return out


def test_road_scores_check_accepts_the_reference_and_names_each_mistake(capsys):
    run = assert_check(L.check_road_scores, L.road_scores_reference, name="road_scores",
                       mistakes=[*((m.wrong, f"Hint: {m.hint}") for m in L.SCORE_MISTAKES),
                                 (wrong_fpr_only, re.compile(r"entry 2 \(FPR\)"))])
    assert "✓ road_scores is correct" in run.passed
    for err, mistake in zip(run.errors, L.SCORE_MISTAKES):
        assert err.hint == mistake.hint

    def mine(pred, target):
        from stnlib import metrics
        s = metrics.scores_from_counts(**metrics.pixel_counts(pred.double(), target))
        return torch.tensor([s["precision"], s["recall"], s["fpr"], s["f1"]], dtype=torch.float64)

    assert L.check_road_scores(mine)
    assert "✓ road_scores is correct" in capsys.readouterr().out


def detached(U, theta):
    return L.round_trip_reference(U, theta).detach()


def test_round_trip_check_accepts_the_reference_and_names_each_mistake():
    run = assert_check(L.check_round_trip, L.round_trip_reference, name="round_trip",
                       mistakes=[*((m.wrong, f"Hint: {m.hint}") for m in L.ROUND_TRIP_MISTAKES),
                                 (detached, "no gradient")])
    for err, mistake in zip(run.errors, L.ROUND_TRIP_MISTAKES):
        assert err.hint == mistake.hint


# issue 26: the likeliest mistakes of exercise 2, written as a student writes them in the notebook
# (scatter_decode and affine_grid imported at the top, sample from stnlib.sampler)

def encoder_only(U, theta):  # V returned without a decoder
    from stnlib.sampler import sample

    grid = affine_grid(theta, tuple(U.shape[2:]), align_corners=False)
    return sample(U, grid, padding_mode="border", align_corners=False)


def identity_grid_decoder(U, theta):  # decoded along the identity grid: D = V
    from stnlib.sampler import sample

    size = tuple(U.shape[2:])
    V = sample(U, affine_grid(theta, size, align_corners=False), padding_mode="border", align_corners=False)
    identity = affine_grid(affine_theta(0.0, dtype=U.dtype).expand(U.shape[0], 2, 3), size, align_corners=False)
    return scatter_decode(V, identity, size, align_corners=False)


def identity_grid_module_decoder(U, theta):  # the same, through the module: decoder.scatter_decode
    from stnlib.sampler import sample

    size = tuple(U.shape[2:])
    V = sample(U, affine_grid(theta, size, align_corners=False), padding_mode="border", align_corners=False)
    identity = affine_grid(affine_theta(0.0, dtype=U.dtype).expand(U.shape[0], 2, 3), size, align_corners=False)
    return decoder.scatter_decode(V, identity, size, align_corners=False)


def corners_everywhere(U, theta):
    from stnlib.sampler import sample

    size = tuple(U.shape[2:])
    grid = affine_grid(theta, size, align_corners=True)
    return scatter_decode(sample(U, grid, padding_mode="border", align_corners=True), grid, size,
                          align_corners=True)


def corners_in_the_grid_only(U, theta):
    from stnlib.sampler import sample

    size = tuple(U.shape[2:])
    grid = affine_grid(theta, size, align_corners=True)
    return scatter_decode(sample(U, grid, padding_mode="border", align_corners=False), grid, size,
                          align_corners=False)


def test_round_trip_check_names_the_likeliest_mistakes_each_with_its_hint():
    run = assert_check(L.check_round_trip, L.round_trip_reference, name="round_trip", mistakes=[
        (encoder_only, "Hint: you returned V, the encoder's output, without decoding it"),
        (identity_grid_decoder, "Hint: your decoder scattered V along a grid that does not move (the identity)"),
        (identity_grid_module_decoder, "Hint: your decoder scattered V along a grid that does not move"),
        (corners_everywhere, "Hint: align_corners=True: the course's transformers use align_corners=False"),
        (corners_in_the_grid_only, "Hint: align_corners=True in affine_grid: the course's"),
    ])
    assert [e.hint for e in run.errors[:2]] == [L.UNDECODED_HINT, L.IDENTITY_GRID_HINT]
    # the spy that tells them apart leaves every name as it was
    assert scatter_decode is decoder.scatter_decode and globals()["scatter_decode"] is scatter_decode


def test_mask_prior_scores_a_predictor_that_ignores_the_image():
    from types import SimpleNamespace
    # road always in the bottom half of the training scenes: the prior calls exactly that road
    labels = torch.zeros(4, 4, 4, dtype=torch.long)
    labels[:, 2:] = 1
    train = SimpleNamespace(labels=labels)
    val = SimpleNamespace(labels=labels[:2])
    test = SimpleNamespace(labels=torch.cat([labels[:1], 1 - labels[:1]]))  # one scene right, one inverted
    out = L.mask_prior_scores(train, val, test)
    assert out["f1"] == pytest.approx(50.0)  # TP 8, FP 8, FN 8
    assert out["val_max_f"] == pytest.approx(100.0)
    assert out["max_f"] == pytest.approx(50.0)


def test_bootstrap_f1_difference_is_the_pooled_difference_with_an_interval_over_scenes():
    g = torch.Generator().manual_seed(0)
    target = (torch.rand(30, 8, 8, generator=g) < 0.4).long()
    good = [metrics.image_counts(target.double() * 0.8 + 0.1 * torch.rand(30, 8, 8, generator=g), target)
            for _ in range(3)]
    noisy = [metrics.image_counts(torch.rand(30, 8, 8, generator=g), target) for _ in range(3)]
    diff, lo, hi = L.bootstrap_f1_difference(good, noisy, resamples=200)
    expected = sum(metrics.pooled_f1(a) - metrics.pooled_f1(b) for a, b in zip(good, noisy)) / 3
    assert diff == pytest.approx(expected)
    assert 0 < lo < diff < hi
    # a model against itself: the difference and its whole interval are 0
    assert L.bootstrap_f1_difference(good, good, resamples=50) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="one tensor per seed"):
        L.bootstrap_f1_difference(good, noisy[:2])
    with pytest.raises(ValueError, match="N×4"):
        L.bootstrap_f1_difference(good, [c[:10] for c in noisy])
