"""`matcher` command line: import, train, batch, evaluate, serve, query, demo.

Subcommand names and flags are a contract."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from importlib import resources
from pathlib import Path

from matcher import api
from matcher.errors import MatcherError
from matcher.service.commands import add_service_commands, run_demo_service

__all__ = ["main"]


def _cmd_import(args: argparse.Namespace) -> int:
    if args.source == "us-job-views":
        from matcher.adapters.us_job_views import convert_us_job_views

        data = convert_us_job_views(args.src, args.out, start=args.start, end=args.end)
        print(f"wrote {len(data.seekers):,} seekers, {len(data.jobs):,} jobs, {len(data.events):,} events "
              f"to {args.out}")
    else:
        from matcher.adapters.zhaopin import convert_zhaopin_users

        data = convert_zhaopin_users(args.src, args.out)
        print(f"wrote {len(data.seekers):,} seekers to {args.out}/seekers.csv (no jobs or events: the Zhaopin "
              "job and action tables are not public)")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    data = api.load_data(args.data)
    config = api.TrainConfig(holdout_days=args.holdout_days, n_candidates=args.candidates)
    started = time.perf_counter()
    bundle, summary = api.train(data, config)
    path = api.save(bundle, args.model, data, extra={"config": asdict(config)})
    print(json.dumps(summary, indent=2, default=str))
    print(f"model {bundle.version} saved to {path} in {time.perf_counter() - started:.1f}s")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    bundle = api.load(args.model)
    data = api.load_data(args.data)
    started = time.perf_counter()
    rows = api.batch(bundle, data, args.out, args.k, as_of=args.as_of)
    elapsed = time.perf_counter() - started
    print(f"wrote {rows:,} matches for {len(data.seekers):,} seekers to {args.out} in {elapsed:.1f}s "
          f"({len(data.seekers) / max(elapsed, 1e-9):,.0f} seekers/s), model {bundle.version}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    bundle = api.load(args.model)
    data = api.load_data(args.data)
    result = api.evaluate(bundle, data, args.report, test_start=args.test_start, n_candidates=args.candidates)
    _print_table(result["results"])
    print(f"report: {result['report']}")
    return 0


def _print_table(results: dict[str, dict[str, float]]) -> None:
    cols = ["ndcg@10", "recall@10", "recall@100", "map@100", "mrr", "coverage@10"]
    print(f"{'method':<16}" + "".join(f"{c:>12}" for c in cols))
    for name, metrics in results.items():
        print(f"{name:<16}" + "".join(f"{metrics.get(c, float('nan')):>12.4f}" for c in cols))


def _cmd_demo(args: argparse.Namespace) -> int:
    work = Path(args.workdir)
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    demo = resources.files("matcher.demo_data")
    for name in ("seekers.csv", "jobs.csv", "events.csv"):
        (data_dir / name).write_bytes(demo.joinpath(name).read_bytes())
    print(f"[1/4] training on the built-in demo data (real US job-board views, see {data_dir})")
    model_dir, report_dir, matches = work / "model", work / "report", work / "matches.csv"
    _cmd_train(argparse.Namespace(data=data_dir, model=model_dir, holdout_days=14.0, candidates=200))
    print("[2/4] evaluating the model against baselines on the held-out last 14 days")
    _cmd_evaluate(argparse.Namespace(data=data_dir, model=model_dir, report=report_dir, test_start=None,
                                     candidates=200))
    print("[3/4] batch matching: top-10 open jobs for every seeker")
    _cmd_batch(argparse.Namespace(data=data_dir, model=model_dir, out=matches, k=10, as_of=None))
    print("[4/4] serving the model over gRPC (matcher serve) and querying it (matcher.service.MatchClient)")
    run_demo_service(data_dir, model_dir, matches, work / "journal.sqlite")
    print(f"\nmatches: {matches}\nreport:  {report_dir / 'report.md'}\nmodel:   {model_dir}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1000, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matcher", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", help="convert a public data set into a FORMAT.md folder")
    p.add_argument("source", choices=["us-job-views", "zhaopin"])
    p.add_argument("--src", required=True, help="source folder (us-job-views) or table1_user.csv (zhaopin)")
    p.add_argument("--out", required=True)
    p.add_argument("--start", help="us-job-views: keep views at or after this time")
    p.add_argument("--end", help="us-job-views: keep views before this time")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("train", help="train a ranking model on a FORMAT.md folder")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True, help="model directory (a new version is added and made current)")
    p.add_argument("--holdout-days", type=float, default=14.0,
                   help="newest days kept out of training for `matcher evaluate` (0: train on everything)")
    p.add_argument("--candidates", type=_positive_int, default=200, help="retrieval depth for training queries")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("batch", help="top-k open jobs for every seeker in a folder")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--k", type=_positive_int, default=20, help="matches per seeker (1..1000)")
    p.add_argument("--out", required=True)
    p.add_argument("--as-of", help="ISO time the matches are for (default: latest time in the folder)")
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("evaluate", help="model vs baselines on a time split; writes a report")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--report", required=True)
    p.add_argument("--test-start", help="first moment of the test window (default: the model's hold-out)")
    p.add_argument("--candidates", type=_positive_int, default=200, help="retrieval depth before re-ranking")
    p.set_defaults(func=_cmd_evaluate)

    add_service_commands(sub, _positive_int)

    p = sub.add_parser("demo", help="train, evaluate, batch-match and serve on the built-in demo data")
    p.add_argument("--workdir", default="demo-output")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except MatcherError as exc:
        print(f"matcher: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
