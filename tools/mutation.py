"""Mutation testing of stnlib with mutmut 3, one module at a time, against the fast tests that cover it.

Why a driver: mutmut reads one ``[tool.mutmut]`` section and first runs *all* of its selected tests to
learn which test reaches which function. Against the whole suite that means executing every notebook,
so each module gets its own scratch copy of the project under ``.mutation/<module>/`` (git-ignored) with a
``[tool.mutmut]`` section that mutates only that module and selects only its fast tests.

Usage (from the repository root; the CPU is shared, so it runs niced with one worker and one thread)::

    python tools/mutation.py diagnostics            # mutate stnlib/diagnostics.py, print the score
    python tools/mutation.py diagnostics decoder    # several, one after the other
    python tools/mutation.py --list                 # the modules and the tests each one runs
    python tools/mutation.py diagnostics --survivors  # also print the diff of each surviving mutant
    python tools/mutation.py diagnostics --keep     # reuse .mutation/diagnostics (mutmut's own cache)
    python tools/mutation.py grids --only 'stnlib.grids.x_affine_grid*'   # some functions of a big module

Each run writes ``.mutation/<module>/summary.json`` (counts per status) and prints
``module: total / killed / survived / no tests / timeout / score``; the score is killed (timeouts
included) over all mutants that were run.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"

# module name -> (source file, the fast tests that cover it). Only fast tests: no training,
# no notebooks. Keep in step with tests/ when files move.
MODULES: dict[str, tuple[str, list[str]]] = {
    "diagnostics": ("stnlib/diagnostics.py", ["tests/library/test_diagnostics.py",
                                               "tests/library/test_diagnostics_behaviour.py"]),
    "decoder": ("stnlib/decoder.py", ["tests/library/test_decoder.py",
                                       "tests/library/test_decoder_behaviour.py"]),
    "kernels": ("stnlib/kernels.py", ["tests/library/test_kernels.py",
                                       "tests/library/test_kernels_behaviour.py"]),
    "theta": ("stnlib/theta.py", ["tests/library/test_theta.py", "tests/library/test_theta_behaviour.py"]),
    "grids": ("stnlib/grids.py", ["tests/library/test_grids.py", "tests/library/test_grids_behaviour.py"]),
    "sampler": ("stnlib/sampler.py", ["tests/library/test_sampler.py",
                                       "tests/library/test_sampler_function.py",
                                       "tests/library/test_sampler_behaviour.py"]),
    "cache": ("stnlib/data/cache.py", ["tests/library/test_data_cache.py"]),
    "budgets": ("stnlib/course/budgets.py", ["tests/course/test_budgets.py",
                                              "tests/course/test_budgets_behaviour.py"]),
    "checking": ("stnlib/course/checking.py", ["tests/course/test_checking.py",
                                                "tests/course/test_checking_behaviour.py",
                                                "tests/course/test_checking_mutation.py"]),
    # test_runner.py executes notebooks (minutes): run the runner with --only on its pure helpers, e.g.
    # python tools/mutation.py runner --only 'stnlib.course.runner.x__failing_cell*'
    "runner": ("stnlib/course/runner.py", ["tests/course/test_runner_behaviour.py"]),
    "stats": ("stnlib/stats.py", ["tests/library/test_stats.py"]),
    "recipe": ("stnlib/recipe.py", ["tests/library/test_recipe.py"]),
    "experiment": ("stnlib/course/experiment.py", ["tests/course/test_experiment.py",
                                                   "tests/course/test_experiment_behaviour.py"]),
    "metrics": ("stnlib/metrics.py", ["tests/library/test_metrics.py",
                                       "tests/library/test_metrics_behaviour.py"]),
    "timeseries": ("stnlib/models/timeseries.py", ["tests/library/test_models_timeseries.py",
                                                   "tests/library/test_models_timeseries_behaviour.py",
                                                   "tests/library/test_recipe.py",
                                                   "tests/library/test_seeds.py",
                                                   "tests/library/test_warp.py"]),
    "train": ("stnlib/train.py", ["tests/library/test_train.py", "tests/library/test_train_options.py",
                                   "tests/library/test_train_behaviour.py"]),
    # issue 25: the models, data and engine modules of lessons 04-08, and the lesson companions' checks
    "classifier": ("stnlib/models/classifier.py", ["tests/library/test_models.py",
                                                   "tests/library/test_models_addition.py",
                                                   "tests/library/test_models_classifier_behaviour.py"]),
    "placement": ("stnlib/models/placement.py", ["tests/library/test_models_placement.py",
                                                 "tests/library/test_models_placement_behaviour.py"]),
    "unet": ("stnlib/models/unet.py", ["tests/library/test_models_unet.py",
                                       "tests/library/test_models_unet_behaviour.py"]),
    "mnist_models": ("stnlib/models/mnist.py", ["tests/library/test_models.py",
                                                "tests/library/test_models_mnist_behaviour.py"]),
    "addition": ("stnlib/models/addition.py", ["tests/library/test_models_addition.py",
                                               "tests/library/test_models_addition_behaviour.py"]),
    "cluttered": ("stnlib/models/cluttered.py", ["tests/library/test_models_cluttered.py",
                                                 "tests/library/test_models_cluttered_behaviour.py"]),
    "distortions": ("stnlib/data/distortions.py", ["tests/library/test_data_distortions.py",
                                                   "tests/library/test_data_distortions_behaviour.py"]),
    "catalog": ("stnlib/data/catalog.py", ["tests/library/test_data_catalog.py",
                                           "tests/library/test_data_catalog_behaviour.py"]),
    "datasets": ("stnlib/data/datasets.py", ["tests/library/test_data_datasets_behaviour.py"]),
    "data_timeseries": ("stnlib/data/timeseries.py", ["tests/library/test_data_sources.py",
                                                      "tests/library/test_data_timeseries_behaviour.py"]),
    "roads": ("stnlib/data/roads.py", ["tests/library/test_data_sources.py",
                                       "tests/library/test_data_roads_behaviour.py"]),
    "samples": ("stnlib/data/samples.py", ["tests/library/test_data_cache.py",
                                           "tests/library/test_data_samples_behaviour.py"]),
    "seeds": ("stnlib/seeds.py", ["tests/library/test_seeds.py", "tests/library/test_seeds_behaviour.py"]),
    "results": ("stnlib/course/results.py", ["tests/course/test_results.py",
                                             "tests/course/test_results_behaviour.py"]),
    # the rest of the library and the course machinery (issue 25's "every module"); each has a fast
    # <..._behaviour.py> file beside its older tests, which may execute notebooks and are left out here
    "transformer": ("stnlib/transformer.py", ["tests/library/test_transformer.py",
                                               "tests/library/test_transformer_behaviour.py"]),
    "localization": ("stnlib/localization.py", ["tests/library/test_transformer.py",
                                                 "tests/library/test_localization_behaviour.py"]),
    "warping": ("stnlib/warping.py", ["tests/library/test_warp.py",
                                       "tests/library/test_warping_behaviour.py"]),
    "equivariance": ("stnlib/equivariance.py", ["tests/library/test_equivariance.py",
                                                 "tests/library/test_equivariance_behaviour.py"]),
    "timing": ("stnlib/timing.py", ["tests/library/test_timing.py",
                                     "tests/library/test_timing_behaviour.py"]),
    "plot": ("stnlib/plot.py", ["tests/library/test_plot.py", "tests/library/test_plot_behaviour.py"]),
    "widgets": ("stnlib/widgets.py", ["tests/library/test_widgets.py",
                                       "tests/library/test_widgets_behaviour.py"]),
    "validate": ("stnlib/_validate.py", ["tests/library/test_errors.py",
                                          "tests/library/test_validate_behaviour.py"]),
    "io": ("stnlib/_io.py", ["tests/library/test_io_behaviour.py"]),
    "device": ("stnlib/device.py", ["tests/library/test_device_behaviour.py"]),
    "fetch": ("stnlib/data/fetch.py", ["tests/library/test_data_fetch.py",
                                        "tests/library/test_data_fetch_behaviour.py"]),
    "kitti": ("stnlib/data/kitti.py", ["tests/library/test_data_kitti_behaviour.py"]),
    "cifar": ("stnlib/data/cifar.py", ["tests/library/test_data_cifar_behaviour.py"]),
    "preview": ("stnlib/data/preview.py", ["tests/library/test_data_preview_behaviour.py"]),
    "data_cli": ("stnlib/data/cli.py", ["tests/library/test_data_cli_behaviour.py"]),
    "data_shortcuts": ("stnlib/data/__init__.py", ["tests/library/test_data_shortcuts_behaviour.py"]),
    "notebooks": ("stnlib/course/notebooks.py", ["tests/course/test_make_lessons.py",
                                                  "tests/course/test_notebooks_behaviour.py"]),
    "book": ("stnlib/course/book.py", ["tests/course/test_book_behaviour.py"]),
    # test_bench.py runs real benchmark parts: under a mutant that changes a CLI default one of them
    # runs for many minutes; the behaviour file covers every function with fake clocks and fake work
    "bench": ("stnlib/course/bench.py", ["tests/course/test_bench_behaviour.py"]),
    "classroom": ("stnlib/course/classroom.py", ["tests/course/test_classroom_behaviour.py"]),
    # test_lab.py asserts the repository's lessons/ exists, which the scratch copy has not
    "lab": ("stnlib/course/lab.py", ["tests/course/test_lab_behaviour.py"]),
    "course_cli": ("stnlib/course/cli.py", ["tests/course/test_cli_behaviour.py"]),
    "lesson": ("stnlib/course/lesson.py", ["tests/course/test_lesson_behaviour.py"]),
    "demo": ("stnlib/course/demo.py", ["tests/course/test_demo_behaviour.py"]),
    "paths": ("stnlib/course/paths.py", ["tests/course/test_paths_behaviour.py"]),
    **{f"l0{n}": (path, [f"tests/lessons/test_{Path(path).stem}.py",
                         f"tests/lessons/test_{Path(path).stem}_checks.py"])
       for n, path in enumerate(sorted(str(f.relative_to(ROOT))
                                        for f in (ROOT / "stnlib/lessons").glob("l0*.py")))},
}
# lesson 04's fix check trains a model per call in test_l04_cluttered_mnist.py: its checks are measured
# against the checks file and the fix check's stand-in tests, so a mutant costs seconds, not minutes
MODULES["l04"] = (MODULES["l04"][0], ["tests/lessons/test_l04_cluttered_mnist_checks.py",
                                      "tests/lessons/test_l04_fix_check_behaviour.py"])


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare(name: str, keep: bool) -> Path:
    source, tests = MODULES[name]
    tests = [t for t in tests if (ROOT / t).exists()]
    work = SCRATCH / name
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for sub in ("stnlib", "tests"):
        if (work / sub).exists():
            shutil.rmtree(work / sub)
        shutil.copytree(ROOT / sub, work / sub, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "conftest.py", work / "conftest.py")
    pyproject = (ROOT / "pyproject.toml").read_text()
    # nbval's options in addopts are harmless, but mutmut must not collect notebooks: the test
    # selection below names test files only.
    pyproject += (
        "\n[tool.mutmut]\n"
        'source_paths = ["stnlib"]\n'
        f"only_mutate = {_toml_list([source])}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
        "use_git_change_detection = false\n"
    )
    (work / "pyproject.toml").write_text(pyproject)
    return work


STATUS = re.compile(r"^\s*(\S+): (killed|survived|no tests|timeout|suspicious|skipped|segfault|"
                    r"caught by type check|not checked|check was interrupted by user)\s*$")


def run(name: str, keep: bool, survivors: bool, only: list[str] | None = None) -> dict:
    work = prepare(name, keep)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    env.pop("PYTHONPATH", None)  # mutmut puts its mutants/ copy first; the worktree must not shadow it
    mutmut = [str(Path(sys.executable).parent / "mutmut")]
    log = work / "run.log"
    with open(log, "w") as fh:
        rc = subprocess.call(["nice", "-n", "10", *mutmut, "run", "--max-children", "1", *(only or [])],
                             cwd=work, env=env, stdout=fh, stderr=subprocess.STDOUT)
    out = subprocess.run([*mutmut, "results", "--all", "true"], cwd=work, env=env, capture_output=True,
                         text=True).stdout
    counts: dict[str, int] = {}
    survived: list[str] = []
    for line in out.splitlines():
        m = STATUS.match(line)
        if m and only and not any(fnmatch.fnmatch(m.group(1), pat) for pat in only):
            continue
        if m:
            counts[m.group(2)] = counts.get(m.group(2), 0) + 1
            if m.group(2) == "survived":
                survived.append(m.group(1))
    total = sum(counts.values())
    ran = total - counts.get("skipped", 0) - counts.get("not checked", 0)
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    summary = {"module": name, "source": MODULES[name][0], "tests": MODULES[name][1], "mutmut_rc": rc,
               "total": total, "counts": counts, "survived": survived,
               "score": round(100 * killed / ran, 1) if ran else None}
    (work / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"{name}: {total} mutants, killed {counts.get('killed', 0)}, survived {counts.get('survived', 0)}, "
          f"no tests {counts.get('no tests', 0)}, timeout {counts.get('timeout', 0)}, "
          f"score {summary['score']}%  (mutmut rc {rc}; log {log.relative_to(ROOT)})", flush=True)
    if survivors:
        for mutant in survived:
            diff = subprocess.run([*mutmut, "show", mutant], cwd=work, env=env, capture_output=True,
                                  text=True).stdout
            changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
            print(f"## {mutant}\n" + "\n".join(changed))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"any of {', '.join(MODULES)}")
    parser.add_argument("--list", action="store_true", help="print the modules and their tests")
    parser.add_argument("--keep", action="store_true", help="reuse the scratch copy and mutmut's cache")
    parser.add_argument("--survivors", action="store_true", help="print each surviving mutant's diff")
    parser.add_argument("--only", nargs="+", metavar="GLOB",
                        help="mutate only these functions, as mutmut names them: "
                             "'stnlib.grids.x_affine_grid*' (module functions), "
                             "'stnlib.grids.xǁAffineGridǁ*' (methods of a class)")
    args = parser.parse_args(argv)
    if args.list or not args.modules:
        for name, (source, tests) in MODULES.items():
            print(f"{name:12s} {source:28s} {' '.join(tests)}")
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; expected some of {list(MODULES)}")
    for name in args.modules:
        run(name, args.keep, args.survivors, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
