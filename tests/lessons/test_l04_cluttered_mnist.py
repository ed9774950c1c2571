"""Lesson 04's companion module: budgets, paper values, exercise checks (right and wrong answers)."""

import functools
import re

import pytest
import torch
from checks import assert_check

from stnlib.course.checking import CheckError
from stnlib.lessons import l04_cluttered_mnist as L
from stnlib.localization import init_identity


def good_outside(theta, out_size):
    H, W = out_size
    grid = torch.nn.functional.affine_grid(theta, (theta.shape[0], 1, H, W), align_corners=False)
    return (grid.abs() > 1).any(dim=-1).flatten(1).float().mean(dim=1)


def _grid(theta, out_size, align_corners=False):
    H, W = out_size
    return torch.nn.functional.affine_grid(theta, (theta.shape[0], 1, H, W),
                                           align_corners=align_corners)


def test_paper_values():
    assert L.PAPER_CLUTTERED == {"Baseline": 0.90, "STN": 0.96}
    assert L.PAPER_COLLAPSE["CIFAR-10-DISTORTED", "STN"] == 0.1
    assert L.PAPER_TC == {"FCN": 13.2, "CNN": 3.5, "ST-FCN": 2.0, "ST-CNN": 1.7}


def test_budgets_follow_the_paper_at_full_and_stay_small_at_smoke():
    full, smoke = L.BUDGET_CHANGES["full"], L.BUDGET_CHANGES["smoke"]
    assert full["epochs"] == 10 and full["n_train"] == 10_000 and full["seeds"] == (0, 1, 2)
    assert smoke["n_train"] <= 1024 and L.SETTINGS["smoke"].collapse_n_train <= 512
    standard, full_settings = L.SETTINGS["standard"], L.SETTINGS["full"]
    # a table has >= 3 seeds at standard, an initialization claim >= 5
    assert len(L.BUDGET_CHANGES["standard"]["seeds"]) >= 3 and len(standard.tc_seeds) >= 3
    assert len(standard.collapse_seeds) >= 5 and len(standard.late_seeds) >= 3
    assert 1.0 in standard.late_lr_factors  # the late-collapse attempt runs at the full rate
    for s in (standard, full_settings):  # the transformer downsamples to half the canvas's side
        assert s.tc_out_size * 2 == s.tc_canvas
    assert (full_settings.tc_canvas, full_settings.tc_pieces) == (60, 6)  # Jaderberg et al.'s TC at full


OUTSIDE_MISTAKES = [
    (lambda theta, out_size: (_grid(theta, out_size).abs() > 1).float().flatten(1).mean(1), "x OR y"),
    (lambda theta, out_size: (_grid(theta, out_size).abs() > 1).all(-1).flatten(1).float().mean(1),
     "both x and y are outside"),
    (lambda theta, out_size: (_grid(theta, out_size).abs() >= 1).any(-1).flatten(1).float().mean(1),
     "not `>= 1`"),
    (lambda theta, out_size: (_grid(theta, out_size, True).abs() > 1).any(-1).flatten(1).float().mean(1),
     "align_corners=False"),
    (lambda theta, out_size: (_grid(theta, out_size[::-1]).abs() > 1).any(-1).flatten(1).float().mean(1),
     "swapped H and W"),
    (lambda theta, out_size: (_grid(theta, out_size).abs() > 1).any(-1).flatten(1).float().sum(1),
     "not their count"),
    (lambda theta, out_size: good_outside(theta, out_size).mean(), "one fraction per image"),
    (lambda theta, out_size: (_grid(theta, out_size) > 1).any(-1).flatten(1).float().mean(1),
     "compare the absolute value"),  # abs() forgotten: only the right and bottom edges count
]


def test_outside_fraction_check_accepts_the_solution_and_names_the_mistakes():
    run = assert_check(L.check_outside_fraction, good_outside, name="outside_fraction",
                       mistakes=OUTSIDE_MISTAKES)
    assert "✓ outside_fraction is correct" in run.passed
    assert all(err.message.startswith("outside_fraction, case") for err in run.errors)


def test_canvas_data_is_the_seeds_distortion_on_mnist():
    s = L.canvas_data("test", 16, seed=0)
    assert s.images.shape == (16, 1, 64, 64)
    assert 0 <= s.images.min() and s.images.max() <= 1
    assert s.images[:, :, :4, :].abs().max() == 0  # the canvas border stays black
    assert s.params["angle"].abs().max() <= 20 and s.params["shift"].abs().max() <= 10
    with pytest.raises(ValueError, match="source must be one of"):
        L.canvas_data("test", 4, source="svhn")


@pytest.fixture(scope="module")
def lesson_ctx():
    return L.start("smoke", 0, "cpu")


def identity_fix(model):
    init_identity(model.transformer.loc[0].head, "affine")
    return model


def border_only(model):
    model.transformer.padding_mode = "border"
    return model


def typo(model):
    model.transformer.loc.head.reset_parameters()  # loc is a ModuleList: loc[0].head
    return model


def theta_zero(model):  # zero weights AND zero bias: θ = 0, every output pixel reads one point
    head = model.transformer.loc[0].head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
    return model


def weights_left_random(model):  # the identity bias, the random weights kept
    with torch.no_grad():
        model.transformer.loc[0].head.bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))
    return model


def bias_left_random(model):  # zero weights, PyTorch's random bias kept
    with torch.no_grad():
        model.transformer.loc[0].head.weight.zero_()
    return model


def lower_lr_only(model):  # tensorpack's trick: the localization net's gradients × 0.1, random start
    for p in model.transformer.loc.parameters():
        p.register_hook(lambda g: 0.1 * g)
    return model


def zeroed_without_no_grad(model):
    model.transformer.loc[0].head.weight.zero_()
    return model


def test_fix_check_passes_a_real_fix_and_names_the_mistakes(lesson_ctx):
    budget, settings = lesson_ctx.budget, lesson_ctx.budget.settings
    check = functools.partial(L.check_fix, settings=settings, budget=budget, device="cpu")
    run = assert_check(check, identity_fix, name="fix", trains=True, mistakes=[
        (lambda model: model, re.compile(
            r"(?s)did not prevent the collapse.*Hint: the localization head still starts at random")),
        (border_only, "border padding only repeats the edge"),
        (lambda model: None, "must return the model"),
        (typo, re.compile(r"fix\(model\) raised AttributeError")),
        # issue 26: the verdict and the hint describe the answer given
        (theta_zero, re.compile(r"(?s)the collapse detector fired at step \d+ \(mean scale .* < 0\.05: the "
                                r"transformer zooms into a tiny patch\).*Hint: θ = 0 .*sends every output "
                                r"pixel to the same point.*the bias must be the identity")),
        (weights_left_random, "Hint: the bias is the identity but the weights are still random"),
        (lower_lr_only, "Hint: scaling the localization net's gradients (a lower learning rate) only slows"),
        (zeroed_without_no_grad, re.compile(r"(?s)raised RuntimeError.*in your code: .*weight\.zero_\(\).*"
                                            r"Hint: .*inside `with torch.no_grad\(\):`")),
    ])
    assert "✓ no collapse" in run.passed and "note" not in run.passed
    theta0 = run.errors[4]
    assert "still starts at random" not in str(theta0)  # issue 26: it does not; θ = 0 is not random


def near_identity(model):  # zero weights and a bias a little off the identity: a slight zoom out
    with torch.no_grad():
        model.transformer.loc[0].head.weight.zero_()
        model.transformer.loc[0].head.bias.copy_(torch.tensor([0.9, 0.0, 0.0, 0.0, 0.9, 0.0]))
    return model


def test_fix_check_says_when_a_passing_fix_did_not_start_at_the_identity(lesson_ctx, capsys):
    # zero weights and a bias near the identity: no collapse, but θ did not start at the identity;
    # the pass says so, and an identity start does not get the note. (A random bias is no good
    # here: whether it collapses within the short run depends on the machine's round-off.)
    budget, settings = lesson_ctx.budget, lesson_ctx.budget.settings
    assert L.check_fix(near_identity, settings=settings, budget=budget, device="cpu") is True
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("✓ no collapse") and "note: θ did not start at the identity" in line


def test_fix_start_reads_what_the_fix_did_before_training():
    from stnlib.models import cluttered as zoo

    def fixed(fix):
        return L._fix_start(fix(zoo.collapse_stn((0.1, 0.3))))

    assert fixed(identity_fix)["kind"] == "identity"
    assert fixed(theta_zero)["kind"] == "theta 0"
    assert fixed(bias_left_random)["kind"] == "bias random"
    assert fixed(weights_left_random)["kind"] == "weights random"
    assert fixed(lambda m: m) == {"kind": "random", "border": False, "scaled": False, "frozen": False}
    assert fixed(lower_lr_only)["scaled"] and fixed(border_only)["border"]
    assert fixed(lambda m: zoo.bound_theta(m.transformer) and m)["kind"] == "weights random"  # W kept
    assert fixed(lambda m: zoo.bound_theta(identity_fix(m).transformer) and m)["kind"] == "bounded"
    assert fixed(lambda m: zoo.bound_theta(m.transformer, start="naive") and m)["kind"] == "naive bound"


def off_the_input(model):  # θ starts at the identity shifted by 3: the whole grid reads outside U
    head = init_identity(model.transformer.loc[0].head, "affine")
    with torch.no_grad():
        head.bias[2] = 3.0
    return model


def test_fix_check_rejects_a_quiet_detector_when_most_of_the_output_is_read_outside(lesson_ctx, monkeypatch):
    # issue 25: the check must also look at the outside fraction, not only at the detector. With fewer
    # steps than the detector's patience (5) it cannot fire, yet every output pixel reads outside U
    # (zero padding: no gradient moves θ back).
    import dataclasses

    budget = lesson_ctx.budget
    settings = dataclasses.replace(budget.settings, fix_steps=3)
    runs, run_condition = [], L.run_condition

    def recording(*args, **kwargs):  # keeps each run the check judges
        runs.append(run_condition(*args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(L, "run_condition", recording)
    with pytest.raises(CheckError) as err:
        L.check_fix(off_the_input, settings=settings, budget=budget, device="cpu", verbose=False)
    (run,) = runs
    assert not run.detected and run.theta_history[-1]["outside"] == 1.0  # the run the check judged
    # it trains the student's fix: named so on its progress bar, not "collapsing recipe" (issue 26)
    assert run.run.name == "your fix" and run.condition == "collapsing recipe"
    assert err.value.message.startswith("your fix did not prevent the collapse: after 3 steps 100% of the "
                                        "output is read from outside the input")
    # the same run length with the real fix passes: the verdict comes from the answer given
    assert L.check_fix(identity_fix, settings=settings, budget=budget, device="cpu", verbose=False) is True
    assert runs[-1].theta_history[-1]["outside"] < 0.5


def test_run_condition_trains_through_the_experiment_as_a_plain_train_would(lesson_ctx):
    from stnlib.models import LOC_PREFIX
    from stnlib.models import cluttered as zoo
    from stnlib.train import evaluate, seed_everything, train

    budget = lesson_ctx.budget
    pool = L.canvas_data("train", 192, seed=0)
    tr, va = pool.subset(slice(64, None)), pool.subset(slice(0, 64))
    exp = L.collapse_experiment(None, tr, va, va, epochs=1, budget=budget, device="cpu")
    run = L.run_condition(exp, "+ loc. net lr × 0.1", 1, every=1, patience=3)
    # the same model, seed, data and recipe trained by hand (the localization net at 0.1 × the rate)
    seed_everything(1)
    mean, std = L.standardize_stats(tr.images)
    model = zoo.collapse_stn((mean, std))
    train(model, (tr.images, tr.labels), epochs=1, lr=budget.lr, batch_size=budget.batch_size, seed=1,
          lr_scale={LOC_PREFIX: 0.1}, progress=False)
    for (name, a), b in zip(run.model.state_dict().items(), model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    assert run.run is exp.runs["+ loc. net lr × 0.1", 1] and run.seed == 1
    assert run.accuracy == pytest.approx(1 - evaluate(model, (va.images, va.labels))["error"] / 100)
    assert [row["step"] for row in run.theta_history] == [0, 1]  # 128 images, batch 64: every step logged
    assert run.fired_at == L.replay_detector(run.theta_history, 3)[0] and run.detected == (run.fired_at is not None)
    with pytest.raises(ValueError, match="already trained"):
        L.run_condition(exp, "+ loc. net lr × 0.1", 1)
    with pytest.raises(ValueError, match="condition must be one of"):
        L.run_condition(exp, "+ dropout", 0)


def test_replay_detector_fires_after_patience_bad_statistics():
    good = {"scale_mean": 1.0, "scale_min": 1.0, "scale_max": 1.0, "translation_mean": 0.0, "outside": 0.0}
    bad = dict(good, outside=0.9)
    rows = [dict(s, step=i) for i, s in enumerate([good, bad, bad, good, bad, bad, bad])]
    assert L.replay_detector(rows, patience=3, max_outside=0.5)[0] == 6
    assert L.replay_detector(rows, patience=2, max_outside=0.5)[0] == 2
    assert L.replay_detector(rows, patience=3, max_outside=0.95) == (None, "")


def test_epoch_theta_averages_the_rows_logged_in_each_epoch():
    rows = [{"step": 0, "outside": 0.0, "scale_mean": 1.0, "translation_mean": 0.0},
            {"step": 2, "outside": 0.2, "scale_mean": 0.8, "translation_mean": 0.2},
            {"step": 4, "outside": 1.0, "scale_mean": 3.0, "translation_mean": 2.0},
            {"step": 8, "outside": 0.6, "scale_mean": 2.0, "translation_mean": 1.0}]
    out = L.epoch_theta(rows, 4, 3)  # epochs: steps 0-3, 4-7, 8-11
    assert out["outside"] == pytest.approx([0.1, 1.0, 0.6])
    assert out["scale_mean"] == pytest.approx([0.9, 3.0, 2.0])
    assert out["translation_mean"] == pytest.approx([0.1, 2.0, 1.0])
    four = L.epoch_theta(rows, 4, 4)["outside"]
    assert four[3] != four[3]  # an epoch without a row is nan
    with pytest.raises(ValueError, match="steps_per_epoch"):
        L.epoch_theta(rows, 0, 3)


def test_late_verdict_tells_the_late_collapse_from_one_at_initialization():
    learned_then_off = L.late_verdict([30, 60, 85, 12], [0.0, 0.01, 0.1, 0.9])
    assert learned_then_off == ("learned, then drifted off the image", 4)
    assert L.late_verdict([11, 10, 10], [0.7, 1.0, 1.0]) == ("drifted off before learning", 1)
    # learning that comes only after the drift does not make it late
    assert L.late_verdict([20, 40, 70], [0.1, 0.8, 0.2]) == ("drifted off before learning", 2)
    # 0.5 is not above the limit
    assert L.late_verdict([40, 80, 90], [0.0, 0.5, 0.3]) == ("learned, stayed on the image", None)
    assert L.late_verdict([40, 55], [0.0, 0.6], learned=60) == ("drifted off before learning", 2)
    assert L.late_verdict([40, 55], [0.0, 0.6], max_outside=0.7) == ("learned, stayed on the image", None)
    assert L.late_verdict([12, 14], [0.0, 0.1]) == ("stayed on the image, never learned", None)
    kinds = (learned_then_off, L.late_verdict([1], [1.0]), L.late_verdict([60], [0.0]), L.late_verdict([1], [0.0]))
    assert [k for k, _ in kinds] == list(L.LATE_KINDS)
    with pytest.raises(ValueError, match="one number per epoch"):
        L.late_verdict([50, 60], [0.0])
