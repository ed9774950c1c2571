"""Checks that a model builder's sampler options (padding_mode, kernel) reach its transformer and show
in V once θ is away from the identity (issue 25, "options away from the identity")."""

import torch


def zoom_out(transformer, factor: float = 2.0) -> None:
    """Make every localization head output a zoom-out θ for every input: zero weights, the identity
    bias with its linear part (affine: all of it, the translation is 0; time warp: the scale s)
    multiplied by ``factor``, so the output's edge reads outside the input."""
    with torch.no_grad():
        for loc in transformer.loc:
            loc.head.weight.zero_()
            if transformer.transform == "timewarp":
                loc.head.bias.view(-1, loc.n_params)[:, 0].mul_(factor)
            else:
                loc.head.bias.mul_(factor)


def option_outputs(make, option: str, values, x: torch.Tensor, *, transformer=lambda m: m.transformer,
                   run=lambda m, x: m.transformed(x)[0], factor: float = 2.0):
    """Build ``make(**{option: v})`` for each v with the same weights, zoom every transformer out, and
    return ``{v: (model, V)}``. Asserts that the option reached the transformer."""
    out, state = {}, None
    for v in values:
        torch.manual_seed(0)
        model = make(**{option: v}).double().eval()
        if state is None:
            state = model.state_dict()
        model.load_state_dict(state)
        st = transformer(model)
        assert getattr(st, option) == v, f"{option}={v!r} did not reach the transformer"
        zoom_out(st, factor)
        with torch.no_grad():
            out[v] = model, run(model, x)
    return out


def corner(V: torch.Tensor) -> torch.Tensor:
    """The first output pixel (top-left corner; the first sample of a series) of each map."""
    return V[..., 0, 0] if V.dim() == 4 else V[..., 0]


def assert_padding_shows(make, x: torch.Tensor, **kw) -> None:
    """zeros: the zoomed-out V's corner is the fill (what an all-zero input gives there, the same for
    any x); border: it is not the fill, it follows x; and the two outputs differ."""
    out = option_outputs(make, "padding_mode", ("zeros", "border"), x, **kw)
    run = kw.get("run", lambda m, x: m.transformed(x)[0])
    (mz, Vz), (mb, Vb) = out["zeros"], out["border"]
    with torch.no_grad():
        fill = corner(run(mz, torch.zeros_like(x)))
        torch.testing.assert_close(corner(Vz), fill, rtol=0, atol=1e-9)
        assert (corner(Vb) - fill).abs().min() > 1e-3, "border padding read the zero fill"
        assert (corner(run(mb, 2 * x)) - corner(Vb)).abs().min() > 1e-3  # it reads x's edge
    assert (Vz - Vb).abs().max() > 1e-3


def assert_kernel_shows(make, x: torch.Tensor, **kw) -> None:
    """nearest: every value of a V zoomed in by 1/0.7 (samples between pixels) is one of x's values (or
    the fill); bilinear: most are not."""
    out = option_outputs(make, "kernel", ("nearest", "bilinear"), x, factor=0.7, **kw)
    values = torch.cat([x.reshape(-1), torch.zeros(1, dtype=x.dtype)])

    def share_of_input_values(V):
        d = (V.reshape(-1, 1) - values.reshape(1, -1)).abs().min(dim=1).values
        return (d < 1e-6).double().mean().item()

    assert share_of_input_values(out["nearest"][1]) == 1.0
    assert share_of_input_values(out["bilinear"][1]) < 0.5
