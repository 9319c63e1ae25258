"""`matcher` command line: import, train, batch, evaluate, serve, query, demo.

Subcommand names and flags are a contract."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from matcher import __version__, api
from matcher.errors import MatcherError
from matcher.offline.commands import add_registry_commands
from matcher.service.commands import add_service_commands

__all__ = ["main"]


def _cmd_import(args: argparse.Namespace) -> int:
    if args.source == "us-job-views":
        from matcher.adapters.us_job_views import convert_us_job_views

        data = convert_us_job_views(args.src, args.out, start=args.start, end=args.end)
        print(f"wrote {len(data.seekers):,} seekers, {len(data.jobs):,} jobs, {len(data.events):,} events "
              f"to {args.out}")
    elif args.source == "cn-postings":
        from matcher.adapters.cn_postings import convert_cn_postings

        data, summaries = convert_cn_postings(args.src, args.out)
        for summary in summaries:
            print(summary.line())
        print(f"wrote {len(data.jobs):,} jobs from {len(summaries)} file(s) to {args.out}/jobs.csv (seekers.csv and "
              "events.csv are empty: the crawls hold postings only)")
    else:
        from matcher.adapters.zhaopin import convert_zhaopin_users

        data = convert_zhaopin_users(args.src, args.out)
        print(f"wrote {len(data.seekers):,} seekers to {args.out}/seekers.csv (no jobs or events: the Zhaopin "
              "job and action tables are not public)")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.promote_margin is not None and args.holdout_days == 0:
        raise MatcherError("--promote-margin compares the models on the hold-out: it needs --holdout-days > 0")
    data = api.load_data(args.data)
    config = api.TrainConfig(holdout_days=args.holdout_days, n_candidates=args.candidates,
                             cluster=getattr(args, "cluster", None))
    if args.trees is not None:
        config.n_estimators = args.trees
    config.two_way = bool(getattr(args, "two_way", False))
    started = time.perf_counter()
    bundle, summary = api.train(data, config)
    from models.registry import current_version

    champion = current_version(args.model)
    promote = args.promote or champion is None
    path = api.save(bundle, args.model, data, extra={"config": asdict(config)}, promote=promote)
    for line in _training_lines(summary):
        print(line)
    why = f" ({summary['why']})" if "why" in summary else ""
    print(f"model {bundle.version} ({summary['kind']}{why}) saved to {path} in {time.perf_counter() - started:.1f}s")
    if not promote and args.promote_margin is not None and champion is not None:
        promote = _promote_if_better(args, data, champion, bundle.version)
    if promote:
        print(f"champion: {bundle.version} (CURRENT; batch and `query reload` use it)")
    else:
        print(f"challenger: {bundle.version}; champion {champion} kept. Compare them (`matcher models compare "
              f"{bundle.version} --model {args.model} --data {args.data}`), then `matcher models promote "
              f"{bundle.version} --model {args.model}`")
    return 0


def _training_lines(summary: dict[str, Any]) -> list[str]:
    """What a person reads after a fit; the whole summary is in the version's meta.json ("training")."""
    if "n_train_queries" not in summary:  # the day-one model: nothing was fitted here
        return [f"no fit on this platform's events: {summary.get('why', '')}"]
    windows = summary["train_windows"]
    lines = [f"trained on {len(windows)} label windows ({windows[0][0][:10]} .. {windows[-1][1][:10]}): "
             f"{summary['n_train_queries']:,} queries, {summary['n_train_pairs']:,} pairs; validation "
             f"{summary['valid_window'][0][:10]} .. {summary['valid_window'][1][:10]}: "
             f"{summary['n_valid_queries']:,} queries, NDCG@10 {summary['valid_ndcg@10']:.4f} at "
             f"{summary['best_iteration']} trees" + (" (then refit on train + validation)"
                                                     if summary.get("refit_on_validation") else "")]
    if summary.get("windows_shortened"):
        lines.append(f"short log: {summary['windows_shortened']}")
    employer = summary.get("employer_side") or {}
    if employer.get("trained"):
        lines.append(f"employer side: {employer['trees']} trees, weight {employer['weight']:g} "
                     f"({employer['weight_source']})")
    elif employer.get("reason", "two_way off") != "two_way off":
        lines.append(f"employer side: not used, {employer['reason']}")
    lines.append(f"hold-out from {str(summary['test_start'])[:16]} (matcher evaluate scores it); full summary in "
                 "the version's meta.json")
    return lines


def _promote_if_better(args: argparse.Namespace, data: api.Dataset, champion: str, challenger: str) -> bool:
    """--promote-margin: compare on this folder's hold-out and promote the challenger when it wins (the rule of
    matcher.offline.evaluation.challenger_wins)."""
    from matcher.offline.commands import compare_versions, print_comparison
    from matcher.offline.evaluation import challenger_wins
    from models.registry import promote

    result = compare_versions(Path(args.model), champion, challenger, data, n_candidates=args.candidates)
    print_comparison(result)
    wins, reason = challenger_wins(result["comparison"], args.promote_margin)
    print(f"{'promoted' if wins else 'not promoted'}: {reason}")
    if wins:
        promote(args.model, challenger)
    return wins


def _cmd_batch(args: argparse.Namespace) -> int:
    bundle = api.load(args.model)
    data = api.load_data(args.data)
    config = api.PushConfig(k=args.k, n_candidates=args.candidates, pool=args.pool,
                            pushes_per_opening=args.pushes_per_opening, min_job_cap=args.min_job_cap,
                            exclude_seen=args.exclude_seen, chunk_size=args.chunk_size,
                            priority_groups=tuple(g for g in (args.priority_groups or "").split(",") if g),
                            priority_extra=args.priority_extra,
                            since=api.parse_time(args.since, "--since") if args.since else None)
    started = time.perf_counter()
    result = api.batch(bundle, data, args.out, config, as_of=args.as_of, work_dir=args.work_dir,
                       cluster=args.cluster, keep_work=args.keep_work)
    elapsed = time.perf_counter() - started
    resumed = f", {result.chunks_resumed} of {result.chunks} chunks resumed" if result.chunks_resumed else ""
    print(f"wrote {result.rows:,} matches for {result.seekers_with_matches:,} of {len(data.seekers):,} seekers to "
          f"{args.out} in {elapsed:.1f}s ({len(data.seekers) / max(elapsed, 1e-9):,.0f} seekers/s{resumed}), "
          f"model {bundle.version}")
    if result.priority_share:
        print(f"priority groups: {result.priority_share['priority_seekers']:.1%} of seekers, "
              f"{result.priority_share['priority_pushes']:.1%} of pushes (exempt from the per-job caps)")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    if getattr(args, "protocol", "time-split") == "forward":
        return _evaluate_forward(args)
    if not args.model:
        raise MatcherError("--model is required for --protocol time-split (forward trains its own per origin)")
    bundle = api.load(args.model)
    data = api.load_data(args.data)
    result = api.evaluate(bundle, data, args.report, test_start=args.test_start, n_candidates=args.candidates)
    _print_table(result["results"])
    print(f"report: {result['report']}")
    return 0


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("expected at least one seed")
    return seeds


def _evaluate_forward(args: argparse.Namespace) -> int:
    if args.window_days <= 0 or args.stride_days <= 0:
        raise MatcherError("--window-days and --stride-days must be positive")
    data = api.load_data(args.data)
    train = api.TrainConfig(holdout_days=0)
    if args.trees is not None:
        train.n_estimators = args.trees
    origins = tuple(api.parse_time(t, "--origin") for t in (args.origin or []))
    config = api.ForwardConfig(origins=origins, n_origins=args.origins, window_days=args.window_days,
                           stride_days=args.stride_days, seeds=args.seeds, n_candidates=args.candidates, train=train,
                           day_one=args.day_one)
    result = api.forward_evaluate(data, args.report, config)
    for population, v in result["verdict"].items():
        print(f"{population} seekers: engine NDCG@10 {v['engine_ndcg@10']:.4f}, best baseline {v['best_baseline']} "
              f"{v['best_baseline_ndcg@10']:.4f} ({v['ratio']:.2f}x), above it at every origin: "
              f"{v['engine_wins_every_origin']}; Recall@100 {v['engine_recall@100']:.4f} vs "
              f"{v['best_baseline_recall@100']:.4f}")
    print(f"report: {result['report']}")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from matcher.policy.audit import run_audit
    from matcher.policy.priority import PriorityPolicy

    policy = PriorityPolicy(enabled=args.priority_share > 0, min_share=args.priority_share) \
        if args.priority_share > 0 else None
    summary = run_audit(api.load(args.model), api.load_data(args.data), args.report, k=args.k,
                        n_candidates=args.candidates, policy=policy,
                        test_start=api.parse_time(args.test_start, "--test-start") if args.test_start else None)
    print(f"audit report: {summary['report']}")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    import numpy as np

    from matcher.policy.explain import explain_pairs, explanation_text, job_labels, skill_gaps

    data = api.load_data(args.data)
    row = np.flatnonzero(data.seekers["seeker_id"].to_numpy() == args.seeker)
    if not len(row):
        raise MatcherError(f"--seeker {args.seeker}: no such seeker_id in {args.data}/seekers.csv")
    engine = api.MatchEngine(api.load(args.model), data,
                             as_of=api.parse_time(args.as_of, "--as-of") if args.as_of else None)
    recs = engine.recommend(row, args.k)
    jobs = recs.job_idx[0][recs.job_idx[0] >= 0]
    shown = job_labels(data.jobs)
    for rank, e in enumerate(explain_pairs(engine.bundle, engine, np.repeat(row, len(jobs)), jobs), start=1):
        print(f"#{rank} {shown[e.job_idx]}  score {e.score:.3f}")
        print("   " + explanation_text(e).replace("\n", "\n   "))
    gaps = skill_gaps(engine, int(row[0]), near=args.near, top=args.gaps)
    print(f"skills that most often stand between {args.seeker} and their {args.near} nearest jobs "
          "(skill, jobs asking for it, rank-weighted share):")
    for skill, n_jobs, weight in gaps:
        print(f"   {skill}  {n_jobs}  {weight:.2f}")
    if not gaps:  # say why, or a counsellor reads "no gap" where the board simply lists no skills
        near = engine.recommend(row, args.near).job_idx[0]
        near = near[near >= 0]
        asking = int((engine.catalogue.jobs.n_skills[near] > 0).sum())
        print(f"   none: {'none' if asking == 0 else f'only {asking}'} of the {len(near)} nearest jobs list skills"
              + ("" if asking == 0 else f", and {args.seeker} has every one they ask for"))
    return 0


def _cmd_market(args: argparse.Namespace) -> int:
    from matcher.policy.market import labour_market

    by = tuple(k for k in args.by.split(",") if k)
    data = api.load_data(args.data)
    view = labour_market(data, as_of=api.parse_time(args.as_of, "--as-of") if args.as_of else None, by=by,
                         min_cell=args.min_cell, totals=args.totals)
    table = view.table.sort_values("openings", ascending=False, kind="stable")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)
    print(f"labour market at {view.as_of}: {view.open_jobs:,} open jobs, {view.active_seekers:,} active seekers "
          f"({view.unplaced_jobs:,} jobs and {view.unplaced_seekers:,} seekers without a {' / '.join(by)})")
    shown = [c for c in ("city_name", "occupation", "open_jobs", "openings", "active_seekers", "ratio",
                         "salary_p25", "salary_p50", "salary_p75") if c in table.columns]
    print(table[shown].head(args.top).to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    if args.out:
        print(f"all {len(table):,} rows: {args.out}")
    return 0


def _print_table(results: dict[str, dict[str, float]]) -> None:
    cols = ["ndcg@10", "recall@10", "recall@100", "map@100", "mrr", "coverage@10"]
    print(f"{'method':<16}" + "".join(f"{c:>12}" for c in cols))
    for name, metrics in results.items():
        print(f"{name:<16}" + "".join(f"{metrics.get(c, float('nan')):>12.4f}" for c in cols))


def _cmd_demo(args: argparse.Namespace) -> int:
    from matcher.demo import run_demo  # the demo drives the commands above

    return run_demo(Path(args.workdir), args.only)


def _int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], refused with the range named."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


_positive_int = _int_in(1, 1000)
_tree_count = _int_in(1, 20_000)


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else _positive_int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matcher", description="talent-match: import, train, evaluate, batch-match "
                                     "and serve job matches (岗位推荐 / 用人推荐) over FORMAT.md folders.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_pipeline_commands(sub)
    _add_analysis_commands(sub)
    add_service_commands(sub, _positive_int)
    p = sub.add_parser("demo", help="train, evaluate, batch-match and serve on the built-in demo data")
    p.add_argument("--workdir", default="demo-output")
    p.add_argument("--only", choices=["us", "cn"], help="run one part: the US job board (us) or the Chinese "
                                                         "catalogue (cn, in WORKDIR/cn); default both")
    p.set_defaults(func=_cmd_demo)
    return parser


def _add_pipeline_commands(sub: Any) -> None:
    """import, train, batch: data in, a model, the nightly push."""
    p = sub.add_parser("import", help="convert a public data set into a FORMAT.md folder")
    p.add_argument("source", choices=["us-job-views", "zhaopin", "cn-postings"])
    p.add_argument("--src", required=True, help="source folder (us-job-views), table1_user.csv (zhaopin), or one "
                                                "Zhaopin/Lagou posting file or a folder of them (cn-postings)")
    p.add_argument("--out", required=True)
    p.add_argument("--start", help="us-job-views: keep views at or after this time")
    p.add_argument("--end", help="us-job-views: keep views before this time")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("train", help="train a ranking model on a FORMAT.md folder")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True, help="model directory (a new version is added and made current)")
    p.add_argument("--holdout-days", type=_non_negative_float, default=14.0,
                   help="newest days kept out of training for `matcher evaluate` (0: train on everything)")
    p.add_argument("--candidates", type=_positive_int, default=200, help="retrieval depth for training queries")
    p.add_argument("--trees", type=_tree_count, help="most trees to grow, 1..20000 (default 600; a cluster run grows "
                                                    "them all, as lightgbm.dask has no early stopping)")
    p.add_argument("--cluster", help="tcp://HOST:PORT of a Dask scheduler: fit with lightgbm.dask there")
    p.add_argument("--two-way", action="store_true",
                   help="also fit the employer side (interview / hire after applying) and rank by the mutual score")
    p.add_argument("--promote-margin", type=_non_negative_float,
                   help="compare the new version with the champion on the hold-out and promote it when its "
                        "NDCG@10 is at least (1 + MARGIN) times the champion's and the paired 95%% interval of "
                        "the difference is above zero (e.g. 0.02)")
    p.add_argument("--promote", action="store_true",
                   help="make the new version the champion (CURRENT) even if there is one; without it a retrain is "
                        "a challenger until `matcher models promote`")
    p.set_defaults(func=_cmd_train)

    add_registry_commands(sub)

    p = sub.add_parser("batch", help="top-k open jobs for every seeker in a folder")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--k", type=_positive_int, default=20, help="matches per seeker (1..1000)")
    p.add_argument("--out", required=True)
    p.add_argument("--as-of", help="ISO time the matches are for (default: latest time in the folder)")
    p.add_argument("--since", help="ISO time of the last run: rematch seekers changed since then against all open "
                                   "jobs, the others only against jobs posted since then")
    p.add_argument("--candidates", type=_positive_int, default=200,
                   help="retrieval depth re-ranked by the model (the service default too)")
    p.add_argument("--pool", type=_non_negative_int, default=0,
                   help="best jobs kept per seeker before the per-job cap (default 0 = 3k)")
    p.add_argument("--pushes-per-opening", type=float, default=50.0,
                   help="per-job cap = max(--min-job-cap, ceil(headcount x this)); 0 = no cap")
    p.add_argument("--min-job-cap", type=_positive_int, default=10)
    p.add_argument("--exclude-seen", action=argparse.BooleanOptionalAction, default=True,
                   help="leave out jobs already pushed to, applied to or rejected by the seeker (default: on)")
    p.add_argument("--priority-groups", help="comma-separated priority groups exempt from the per-job caps, e.g. "
                                             "long_term_unemployed,disabled,zero_employment_household,graduate,veteran")
    p.add_argument("--priority-extra", type=_non_negative_int, default=0,
                   help="pushes a priority seeker may get beyond k")
    p.add_argument("--chunk-size", type=int, default=8192, help="seekers per chunk (the unit of resume and of Dask)")
    p.add_argument("--work-dir", help="checkpoints of finished chunks (default: .OUT.work next to --out)")
    p.add_argument("--keep-work", action="store_true", help="keep the checkpoints after a successful run")
    p.add_argument("--cluster", help="tcp://HOST:PORT of a Dask scheduler (default: run here)")
    p.set_defaults(func=_cmd_batch)


def _add_analysis_commands(sub: Any) -> None:
    """evaluate, audit, explain, market: what data scientists and counsellors read."""
    p = sub.add_parser("evaluate", help="model vs baselines (time split, or the forward protocol); writes a report")
    p.add_argument("--data", required=True)
    p.add_argument("--model", help="model directory (time-split; forward trains one model per origin and seed)")
    p.add_argument("--report", required=True)
    p.add_argument("--protocol", choices=["time-split", "forward"], default="time-split",
                   help="forward: train before each origin, match a later window with none of its events known")
    p.add_argument("--test-start", help="time-split: first moment of the test window (default: the model's hold-out)")
    p.add_argument("--candidates", type=_positive_int, default=200, help="retrieval depth before re-ranking")
    p.add_argument("--origins", type=_positive_int, default=3, help="forward: number of rolling origins")
    p.add_argument("--origin", action="append", help="forward: an explicit origin (repeatable; overrides --origins)")
    p.add_argument("--window-days", type=float, default=14.0, help="forward: length of each test window")
    p.add_argument("--stride-days", type=float, default=7.0, help="forward: days between origins")
    p.add_argument("--seeds", type=_seeds, default=(0, 1, 2), help="forward: comma-separated seeds (default 0,1,2)")
    p.add_argument("--trees", type=_tree_count, help="forward: most trees per model")
    p.add_argument("--day-one", action="store_true",
                   help="forward: the day-one model (learns none of the platform's events) against the baselines")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("audit", help="fairness audit: exposure and quality per protected and priority group, "
                                     "counterfactual check; writes a report")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--report", required=True)
    p.add_argument("--k", type=_positive_int, default=10)
    p.add_argument("--candidates", type=_positive_int, default=200)
    p.add_argument("--priority-share", type=float, default=0.2,
                   help="employer-side share guaranteed to priority groups, shown before/after (0: no policy)")
    p.add_argument("--test-start", help="first moment of the quality window (default: the model's hold-out)")
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("explain", help="a seeker's top matches explained for a counsellor, and their skill gaps")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--seeker", required=True, help="seeker_id")
    p.add_argument("--k", type=_positive_int, default=5)
    p.add_argument("--near", type=_positive_int, default=50, help="near matches the skill gaps are counted over")
    p.add_argument("--gaps", type=_positive_int, default=10)
    p.add_argument("--as-of", help="ISO time (default: latest time in the folder)")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("market", help="labour-market view: openings vs seekers (求人倍率) and offered salaries")
    p.add_argument("--data", required=True)
    p.add_argument("--by", default="city,occupation", help="comma-separated subset of city,occupation")
    p.add_argument("--as-of", help="ISO time (default: latest time in the folder)")
    p.add_argument("--min-cell", type=int, default=3, help="drop cells with fewer jobs and fewer seekers than this")
    p.add_argument("--totals", action="store_true", help="add per-city and national rows (key '*')")
    p.add_argument("--top", type=_positive_int, default=20, help="rows to print, by openings")
    p.add_argument("--out", help="write every row as CSV")
    p.set_defaults(func=_cmd_market)


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
