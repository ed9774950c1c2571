"""How lesson 07's ``standard`` θ-head learning rate (``Settings.head_lr_scale``) was chosen.

    python tools/l07_head_lr.py NAME HEAD_SCALE [SEED]      # e.g. STN-C0 30 0

Trains one placement model of lesson 07 exactly as the notebook's ``standard`` rotation run does
(``l07_feature_maps.fit``: 8 000 rotated digits less the 1 000 held out, 5 epochs, Adam 2e-3
one-cycle, batch 64, 1 thread) with the θ head at HEAD_SCALE × the learning rate, and writes
bench/l07-head-lr/NAME-hHEAD_SCALE-sSEED.json: the validation error after every epoch and the
Figure-3 fit (slope, correlation) of the predicted against the applied angle, **on the validation
split**. Nothing here reads the test split. (The notebook now tunes every placement itself over
``Settings.head_lr_grid`` by the same rule, :func:`stnlib.lessons.l07_feature_maps.tune_head_lr`;
this script runs one grid point alone, e.g. to try a wider grid.)
"""
import json
import sys
import time
from pathlib import Path

import torch

from stnlib import equivariance as eq
from stnlib.lessons import l07_feature_maps as L
from stnlib.train import seed_everything

OUT = Path(__file__).resolve().parents[1] / "bench" / "l07-head-lr"


def main(name: str, head_scale: float, seed: int = 0) -> dict:
    torch.set_num_threads(1)
    ctx = L.start("standard", seed, "cpu")
    B = ctx.budget
    tr, va = L.load_split("mnist-rot-finnveden", B.n_train, B.settings.n_val, seed=seed)
    seed_everything(seed)
    model = L.build(name, 28, B)
    t0 = time.process_time()
    history = L.recipe(B, head_lr_scale=head_scale).fit(model, tr, seed=seed, device="cpu", val_data=va,
                                                        progress="log", desc=name)
    out = {"name": name, "head_lr_scale": head_scale, "seed": seed, "n_train": len(tr),
           "n_val": len(va), "epochs": B.epochs, "lr": B.lr, "cpu_s": time.process_time() - t0,
           "val_error": [r["val_error"] for r in history.rows]}
    fit = eq.orthogonal_fit(va.params["angle"].double(), L.angles_of(model, va.images, "cpu"))
    out.update(val_slope=fit["slope"], val_r=fit["r"])
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-h{head_scale:g}-s{seed}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(path)
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) == 4 else 0)
