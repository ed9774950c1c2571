"""Compare localization-net variants of lesson 00's ST-CNN (how the default of ``st_cnn`` was chosen).

    python tools/loc_net_variants.py tta CHANNELS DOWNSAMPLE SEED CAP_S   # time-to-accuracy protocol, capped
    python tools/loc_net_variants.py overhead THREADS REPEATS 8,2 12,2 16,2 16,1

``tta`` trains one variant on `stn-course bench`'s time-to-accuracy protocol (RTS MNIST, 50 000 training
and 5 000 validation digits, Adam 3e-3 one-cycle over 4 epochs, batch 64, 1 thread, thread CPU clock)
for CAP_S seconds and writes bench/loc-net-variants/chC-dsD-sS.json; ``overhead`` prints the training-step
ratio to the CNN of each CHANNELS,DOWNSAMPLE variant (`stn-course bench --part overhead`'s measurement).
"""
import json
import sys
from pathlib import Path

import torch

from stnlib.course import bench
from stnlib.models import cnn, st_cnn
from stnlib.recipe import Recipe

OUT = Path(__file__).resolve().parents[1] / "bench" / "loc-net-variants"


def tta(ch: int, ds: int, seed: int, cap: float) -> None:
    torch.set_num_threads(1)
    course = Recipe(epochs=4, lr=3e-3, batch_size=64)  # Adam, one-cycle over 4 epochs

    name = f"ch{ch}-ds{ds}-s{seed}"
    r = bench.bench_time_to_accuracy(
        time_cap_s=cap, seed=seed, log=lambda s: print(s, flush=True), clock="cpu",
        recipes={name: (lambda: st_cnn(1, 42, loc_channels=ch, loc_downsample=ds), course)})
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(r, indent=1))


def overhead(threads: int, repeats: int, variants: list[tuple[int, int]]) -> None:
    torch.set_num_threads(threads)
    for ch, ds in variants:
        row = bench.bench_overhead(repeats=repeats, clock="cpu" if threads == 1 else "wall", models={
            "CNN": lambda: cnn(1, 42),
            "ST-CNN": lambda ch=ch, ds=ds: st_cnn(1, 42, loc_channels=ch, loc_downsample=ds)})[0]
        print(f"{ch} channels, downsample {ds}: ratio {row['ratio']:.2f} "
              f"[{row['ratio_q1']:.2f}-{row['ratio_q3']:.2f}]", flush=True)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "tta":
        tta(int(args[0]), int(args[1]), int(args[2]), float(args[3]))
    elif mode == "overhead":
        overhead(int(args[0]), int(args[1]), [tuple(map(int, v.split(","))) for v in args[2:]])
    else:
        raise SystemExit(f"mode must be tta or overhead, got {mode!r}")
