"""Lesson 04's fix check without training (issue 25): ``canvas_data``, ``collapse_experiment`` and
``run_condition`` replaced by recording stand-ins that apply the student's fix to a real collapse model
and hand back a chosen θ history. Pinned: what the check passes on (data size, seed, source, splits,
budget, device, condition, detector patience), its verdict at the outside-fraction limit, its pass
line and the note for a fix that did not start at the identity, its failure message and hint, and what
``_checked`` and ``_fix_start`` make of each answer."""

import types

import pytest
import torch
from torch import nn

from stnlib.course.checking import RAISED_HINTS, CheckError, not_written_yet
from stnlib.lessons import l04_cluttered_mnist as L
from stnlib.localization import init_identity
from stnlib.models import cluttered as zoo


def row(step, outside=0.1, scale=1.0, t=0.05):
    return {"step": step, "outside": outside, "scale_mean": scale, "translation_mean": t}


def identity_fix(model):
    init_identity(model.transformer.loc[0].head, "affine")
    return model


def theta_zero(model):
    with torch.no_grad():
        model.transformer.loc[0].head.weight.zero_()
        model.transformer.loc[0].head.bias.zero_()
    return model


class Stand:
    """The stand-ins and what they were called with."""

    def __init__(self, monkeypatch, history, *, detected=False, fired_at=None, accuracy=0.42):
        self.calls = {}
        self.history, self.detected, self.fired_at, self.accuracy = history, detected, fired_at, accuracy
        monkeypatch.setattr(L, "canvas_data", self.canvas_data)
        monkeypatch.setattr(L, "collapse_experiment", self.collapse_experiment)
        monkeypatch.setattr(L, "run_condition", self.run_condition)
        monkeypatch.setattr(L._lesson, "current_lesson", lambda: None)

    def canvas_data(self, split, n, **kw):
        self.calls["data"] = (split, n, kw)
        return _Set("all")

    def collapse_experiment(self, ctx, train_set, val_set, test_set, **kw):
        self.calls["experiment"] = (ctx, train_set.name, val_set.name, test_set.name, kw)
        return "experiment"

    def run_condition(self, exp, condition, seed, *, fix, **kw):
        self.calls["run"] = (exp, condition, seed, kw)
        self.model = fix(zoo.collapse_stn((0.1, 0.3)))
        return types.SimpleNamespace(theta_history=self.history, detected=self.detected,
                                     fired_at=self.fired_at, accuracy=self.accuracy)


class _Set:
    def __init__(self, name):
        self.name = name

    def subset(self, index):
        return _Set(f"{self.name}[{index.start}:{index.stop}]")


def budget(batch_size=8, settings=None):
    return types.SimpleNamespace(batch_size=batch_size, settings=settings)


def test_the_check_hands_on_its_data_budget_device_and_run(monkeypatch):
    stand = Stand(monkeypatch, [row(0), row(2)])
    b = budget(batch_size=8)
    assert L.check_fix(identity_fix, settings=L.Settings(fix_steps=3), budget=b, device="cpu",
                       source="blobs", verbose=False) is True
    assert stand.calls["data"] == ("train", 3 * 8 + 256, {"seed": 0, "source": "blobs"})
    assert stand.calls["experiment"] == (None, "all[256:None]", "all[0:256]", "all[0:256]",
                                         {"epochs": 1, "budget": b, "device": "cpu"})
    assert stand.calls["run"] == ("experiment", "collapsing recipe", 0,
                                  {"every": 1, "patience": 5, "name": "your fix"})
    assert stand.calls["data"][2]["source"] == "blobs"
    L.check_fix(identity_fix, settings=L.Settings(fix_steps=3), budget=b, verbose=False)
    assert stand.calls["data"] == ("train", 280, {"seed": 0, "source": "mnist"})  # the default source
    assert stand.calls["experiment"][4]["device"] is None


def test_settings_and_budget_come_from_the_lesson_or_the_smoke_budget(monkeypatch):
    stand = Stand(monkeypatch, [row(0)])
    L.check_fix(identity_fix, budget=budget(batch_size=2, settings=L.Settings(fix_steps=5)), verbose=False)
    assert stand.calls["data"][1] == 5 * 2 + 256  # the budget's own settings
    L.check_fix(identity_fix, budget=budget(batch_size=2), verbose=False)
    assert stand.calls["data"][1] == L.Settings().fix_steps * 2 + 256  # no settings anywhere: the defaults
    L.check_fix(identity_fix, verbose=False)  # no lesson started: the smoke budget with the lesson's changes
    smoke = L._lesson.budgets.get_budget("smoke", changes=L.BUDGET_CHANGES, settings=L.SETTINGS)
    assert stand.calls["data"][1] == smoke.settings.fix_steps * smoke.batch_size + 256
    assert stand.calls["experiment"][4]["budget"] == smoke
    ctx = types.SimpleNamespace(budget=budget(batch_size=3, settings=L.Settings(fix_steps=7)), device="lesson-device")
    monkeypatch.setattr(L._lesson, "current_lesson", lambda: ctx)
    L.check_fix(identity_fix, verbose=False)
    assert stand.calls["data"][1] == 7 * 3 + 256
    assert stand.calls["experiment"][4]["budget"] is ctx.budget
    assert stand.calls["experiment"][4]["device"] == "lesson-device"
    L.check_fix(identity_fix, device="cpu", verbose=False)
    assert stand.calls["experiment"][4]["device"] == "cpu"  # a given device wins over the lesson's


def test_the_pass_line(monkeypatch, capsys):
    Stand(monkeypatch, [row(0), row(4, outside=0.236, scale=0.874)], accuracy=0.57)
    assert L.check_fix(identity_fix, budget=budget()) is True
    assert capsys.readouterr().out == ("✓ no collapse in 5 steps: 24% of the output read from outside the "
                                       "input, scale 0.87, validation accuracy 0.57 (chance: 0.1)\n")
    assert L.check_fix(identity_fix, budget=budget(), verbose=False) is True
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("fix, kind", [
    (theta_zero, "theta 0"),
    (lambda m: m, "random"),
], ids=["theta0", "random"])
def test_a_pass_from_another_start_says_so(monkeypatch, capsys, fix, kind):
    Stand(monkeypatch, [row(0, scale=0.031), row(1, outside=0.3, scale=0.5)], accuracy=0.25)
    assert L.check_fix(fix, budget=budget()) is True
    assert capsys.readouterr().out == (
        "✓ no collapse in 2 steps: 30% of the output read from outside the input, scale 0.50, validation "
        "accuracy 0.25 (chance: 0.1); note: θ did not start at the identity (first mean scale √|det θ| 0.03, "
        "the identity's 1): zero weights and the identity bias start it there\n")


def bias_left_random(model):
    with torch.no_grad():
        model.transformer.loc[0].head.weight.zero_()
    return model


def weights_left_random(model):
    with torch.no_grad():
        model.transformer.loc[0].head.bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))
    return model


@pytest.mark.parametrize("fix, note", [
    (bias_left_random, True), (weights_left_random, True), (identity_fix, False),
    (lambda m: zoo.bound_theta(identity_fix(m).transformer) and m, False),
    (lambda m: zoo.bound_theta(m.transformer, start="naive") and m, False),
], ids=["bias-random", "weights-random", "identity", "bounded", "naive"])
def test_the_note_is_for_starts_away_from_the_identity_only(monkeypatch, capsys, fix, note):
    Stand(monkeypatch, [row(0), row(1)])
    assert L.check_fix(fix, budget=budget()) is True
    assert ("note: θ did not start at the identity" in capsys.readouterr().out) is note


def test_outside_half_of_the_output_fails_even_with_a_quiet_detector(monkeypatch):
    history = [row(0, scale=0.8), row(3, outside=0.5, scale=0.6, t=1.2)]
    Stand(monkeypatch, history)
    with pytest.raises(CheckError) as err:
        L.check_fix(lambda m: m, budget=budget(), verbose=False)
    assert err.value.message == ("your fix did not prevent the collapse: after 4 steps 50% of the output is read "
                                 "from outside the input (mean scale √|det θ| = 0.60, |t| = 1.20)")
    assert err.value.hint == L._fix_hint({"kind": "random", "border": False, "scaled": False, "frozen": False},
                                         history[0])
    Stand(monkeypatch, [row(0), row(3, outside=0.4999)])
    assert L.check_fix(lambda m: m, budget=budget(), verbose=False) is True


def test_a_detector_that_fired_fails_with_where_and_why(monkeypatch):
    history = [row(0), row(1, scale=0.02), row(2, outside=0.2, scale=0.01)]
    Stand(monkeypatch, history, detected=True, fired_at=1)
    with pytest.raises(CheckError) as err:
        L.check_fix(theta_zero, budget=budget(), verbose=False)
    assert err.value.message == (
        "your fix did not prevent the collapse: the collapse detector fired at step 2 (mean scale √|det θ| = "
        "0.02 < 0.05: the transformer zooms into a tiny patch); after 3 steps mean scale √|det θ| = 0.01, "
        "|t| = 0.05, 20% read from outside")
    assert err.value.hint.startswith("θ = 0 (zero weights and a zero bias) sends every output pixel")


def test_an_open_exercise_and_the_fix_s_own_mistakes(monkeypatch, capsys):
    Stand(monkeypatch, [row(0)])

    def open_fix(model):
        raise NotImplementedError

    assert L.check_fix(open_fix, budget=budget(), verbose=False) is False
    assert capsys.readouterr().out == ""
    assert L.check_fix(open_fix, budget=budget()) is False
    said = capsys.readouterr().out
    not_written_yet("fix")
    assert said and said == capsys.readouterr().out  # the line every open exercise gets
    with pytest.raises(TypeError) as err:
        L.check_fix("fix", budget=budget(), verbose=False)
    assert str(err.value) == "pass your function itself, check_fix(fix), got str"

    def scalar(model):
        raise ValueError("a Tensor with 2 elements cannot be converted to Scalar")

    with pytest.raises(CheckError) as err:
        L.check_fix(scalar, budget=budget(), verbose=False)
    assert err.value.message == "fix(model) raised ValueError: a Tensor with 2 elements cannot be converted to Scalar"
    assert err.value.hint == RAISED_HINTS[0][1]

    def other(model):
        raise KeyError("nothing known")

    with pytest.raises(CheckError) as err:
        L.check_fix(other, budget=budget(), verbose=False)
    assert err.value.message == "fix(model) raised KeyError: 'nothing known'" and err.value.hint is None

    def own(model):
        raise CheckError("from a nested check", hint="h")

    with pytest.raises(CheckError) as err:
        L.check_fix(own, budget=budget(), verbose=False)
    assert (err.value.message, err.value.hint) == ("from a nested check", "h")
    for returned, name in ((None, "NoneType"), (nn.Linear(2, 2), "Linear")):
        with pytest.raises(CheckError) as err:
            L.check_fix(lambda m, r=returned: r, budget=budget(), verbose=False)
        assert err.value.message == f"fix must return the model it was given (an ST classifier), got {name}"


def test_the_raising_line_is_named(monkeypatch):
    Stand(monkeypatch, [row(0)])

    def typo(model):
        return model.transformr

    with pytest.raises(CheckError) as err:
        L.check_fix(typo, budget=budget(), verbose=False)
    assert err.value.your_line is not None and "model.transformr" in err.value.your_line


def start_of(fix):
    return L._fix_start(fix(zoo.collapse_stn((0.1, 0.3))))


def test_fix_start_flags():
    def frozen(model):
        for p in model.transformer.loc.parameters():
            p.requires_grad_(False)
        return identity_fix(model)

    def half_frozen(model):
        next(model.transformer.loc.parameters()).requires_grad_(False)
        return model

    def border(model):
        model.transformer.padding_mode = "border"
        return model

    def hooked(model):
        list(model.transformer.loc.parameters())[-1].register_hook(lambda g: 0.1 * g)
        return model

    assert start_of(frozen) == {"kind": "identity", "border": False, "scaled": False, "frozen": True}
    assert start_of(half_frozen)["frozen"] is False
    assert start_of(border) == {"kind": "random", "border": True, "scaled": False, "frozen": False}
    assert start_of(hooked)["scaled"] is True


@pytest.mark.parametrize("off, kind", [(5e-7, "identity"), (5e-6, "bias random")], ids=["inside", "outside"])
def test_fix_start_reads_the_identity_bias_at_1e_6(off, kind):
    def near(model):
        identity_fix(model)
        with torch.no_grad():
            model.transformer.loc[0].head.bias[1] += off
        return model
    assert start_of(near)["kind"] == kind


def test_fix_start_kinds_of_the_bounded_heads():
    assert start_of(lambda m: zoo.bound_theta(identity_fix(m).transformer) and m)["kind"] == "bounded"
    assert start_of(lambda m: zoo.bound_theta(m.transformer, start="naive") and m)["kind"] == "naive bound"
    assert start_of(identity_fix)["kind"] == "identity"


def test_the_hint_reads_the_run_s_first_theta(monkeypatch):
    history = [row(0, scale=0.37), row(1, outside=0.7)]
    Stand(monkeypatch, history)
    with pytest.raises(CheckError) as err:
        L.check_fix(bias_left_random, budget=budget(), verbose=False)
    assert "(mean scale 0.37, the identity's is 1)" in err.value.hint
    assert err.value.hint == L._fix_hint(start_of(bias_left_random), history[0])


def test_the_pass_line_rounds_the_percentage_of_the_last_row(monkeypatch, capsys):
    Stand(monkeypatch, [row(0), row(1, outside=0.485)])
    assert L.check_fix(identity_fix, budget=budget()) is True
    assert "in 2 steps: 48% of the output read from outside" in capsys.readouterr().out


@pytest.mark.parametrize("fix, kind", [
    (identity_fix, "identity"), (theta_zero, "theta 0"), (bias_left_random, "bias random"),
    (weights_left_random, "weights random"), (lambda m: m, "random"),
], ids=["identity", "theta0", "bias-random", "weights-random", "random"])
def test_fix_start_reads_each_kind_of_plain_head(fix, kind):
    assert start_of(fix) == {"kind": kind, "border": False, "scaled": False, "frozen": False}


def test_fix_start_calls_a_model_without_localization_parameters_not_frozen():
    def constants(model):  # the localization net's weights turned into buffers: nothing to train, nothing frozen
        identity_fix(model)
        for module in model.transformer.loc.modules():
            for name, p in list(module._parameters.items()):
                del module._parameters[name]
                module.register_buffer(name, p.detach())
        assert not list(model.transformer.loc.parameters())
        return model
    assert start_of(constants) == {"kind": "identity", "border": False, "scaled": False, "frozen": False}


@pytest.mark.parametrize("fix, kind", [
    (identity_fix, "identity"), (theta_zero, "theta 0"), (weights_left_random, "weights random"),
    (lambda m: zoo.bound_theta(identity_fix(m).transformer) and m, "bounded"),
], ids=["identity", "theta0", "weights-random", "bounded"])
def test_fix_start_reads_a_float64_model_as_a_float32_one(fix, kind):
    # the identity bias is built in the head's own dtype: a double model is read, not refused
    assert start_of(lambda m: fix(m).double())["kind"] == kind


def test_fix_start_on_another_bound_reads_its_atanh_identity():
    fix = lambda m: zoo.bound_theta(identity_fix(m).transformer, bound=(2.0, 0.5)) and m  # noqa: E731
    assert start_of(fix)["kind"] == "bounded"

    def identity_as_bias(model):  # a bounded head whose bias is the identity itself, not atanh(identity / bound)
        zoo.bound_theta(identity_fix(model).transformer)
        with torch.no_grad():
            model.transformer.loc[0].head.linear.bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))
        return model
    assert start_of(identity_as_bias)["kind"] == "bias random"


def test_the_fix_s_typical_mistakes_get_their_hints(monkeypatch):
    Stand(monkeypatch, [row(0)])

    def in_place(model):
        model.transformer.loc[0].head.bias.zero_()  # outside torch.no_grad()
        return model

    def assigned(model):
        model.transformer.loc[0].head.bias = torch.zeros(6)  # a plain tensor for a parameter
        return model

    for fix, hint, line in ((in_place, RAISED_HINTS[4][1], "bias.zero_()"),
                            (assigned, RAISED_HINTS[5][1], "bias = torch.zeros(6)")):
        with pytest.raises(CheckError) as err:
            L.check_fix(fix, budget=budget(), verbose=False)
        assert err.value.message.startswith(("fix(model) raised RuntimeError: a leaf Variable",
                                             "fix(model) raised TypeError: cannot assign"))
        assert err.value.hint == hint and line in err.value.your_line


def test_a_non_module_with_a_transformer_is_not_a_model(monkeypatch):
    Stand(monkeypatch, [row(0)])
    returned = types.SimpleNamespace(transformer=zoo.collapse_stn((0.1, 0.3)).transformer)
    with pytest.raises(CheckError) as err:
        L.check_fix(lambda m: returned, budget=budget(), verbose=False)
    assert err.value.message == "fix must return the model it was given (an ST classifier), got SimpleNamespace"
