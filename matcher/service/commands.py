"""`matcher serve` and `matcher query`: the service's subcommands of the one `matcher` CLI."""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import subprocess
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import pandas as pd

from matcher.data import read_csv_cells
from matcher.errors import MatcherError
from matcher.schema import Reasons
from matcher.service.client import MatchClient
from matcher.service.convert import pb
from matcher.service.messages import Match, NearbyMatch, Record
from matcher.service.server import serve
from matcher.service.settings import load_settings

__all__ = ["CN_DEMO", "DemoScript", "ReasonLabels", "US_DEMO", "ZH_LABELS", "add_service_commands", "format_reasons",
           "run_demo_service"]


def _cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, data=args.data, model=args.model, journal=args.journal, store=args.store,
                             host=args.host, port=args.port, as_of=args.as_of)

    def ready(port: int) -> None:
        print(f"serving matcher.v1.MatchService on {settings.host}:{port}", flush=True)

    serve(settings, ready=ready)
    return 0


@dataclasses.dataclass(frozen=True)
class ReasonLabels:
    """The words a match's reasons are shown with (the reasons themselves stay `Reasons` values)."""

    skills: str = "skills: "
    skill_sep: str = ", "
    km: str = "{:.1f} km"
    salary: tuple[str, str, str, str] = ("?", "salary below", "salary meets", "salary above")  # by SalaryFit
    same_city: str = "same city"
    desired_city: str = "desired city"
    sep: str = "; "


EN_LABELS = ReasonLabels()
ZH_LABELS = ReasonLabels(skills="技能匹配: ", skill_sep="、", km="距离 {:.1f} 公里",
                         salary=("薪资 未知", "薪资 低于期望", "薪资 符合", "薪资 高于期望"), same_city="同城",
                         desired_city="期望城市")


def format_reasons(r: Reasons, labels: ReasonLabels = EN_LABELS) -> str:
    """One line: shared skills, distance, salary against expectation (when known), same or desired city."""
    bits = [labels.skills + labels.skill_sep.join(r.matched_skills) if r.matched_skills else "",
            labels.km.format(r.distance_km) if r.distance_km is not None else "",
            labels.salary[r.salary_fit] if r.salary_fit else "", labels.same_city if r.same_city else "",
            labels.desired_city if r.in_desired_city else ""]
    return labels.sep.join(b for b in bits if b)


# Fields that hold a matcher.v1 enum's number: --json prints them by name, as the proto names them without the
# enum's prefix and lower-cased (salary_fit 2 -> "meets"), for every `matcher query` subcommand.
_ENUMS: dict[str, tuple[Any, str]] = {"salary_fit": (pb.SalaryFit, "SALARY_FIT_")}


def _plain(value: Any) -> Any:
    """`value` as JSON values: dataclasses as dicts, tuples as lists and enum numbers as their names."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _ENUMS and isinstance(item, int) and not isinstance(item, bool):
                enum, prefix = _ENUMS[key]
                out[key] = enum.Name(item).removeprefix(prefix).lower() if item in enum.values() else item
            else:
                out[key] = _plain(item)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(_plain(value), ensure_ascii=False, indent=1, default=str))


def _width(text: str) -> int:
    """Terminal columns of `text`: CJK place and occupation names take two each."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> None:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]
    for row in [list(header), *rows]:
        cells = [" " * (w - _width(c)) + c if r else c + " " * (w - _width(c))
                 for c, w, r in zip(row, widths, right, strict=True)]
        print("  ".join(cells).rstrip())


def _print_matches(matches: list[Match], as_json: bool, labels: ReasonLabels = EN_LABELS) -> None:
    if as_json:
        _print_json(matches)
        return
    for rank, m in enumerate(matches, start=1):
        print(f"{rank:>3}  {m.id:<24} {m.score:9.4f}  {format_reasons(m.reasons, labels)}")


def _print_nearby(matches: list[NearbyMatch], as_json: bool) -> None:
    if as_json:
        _print_json(matches)
        return
    rows = [[str(rank), m.id, f"{m.distance_km:.2f}", "-" if m.score is None else f"{m.score:.4f}"]
            for rank, m in enumerate(matches, start=1)]
    _print_table(["rank", "job_id", "km", "score"], rows, [True, False, True, True])


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _print_market(cells: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        _print_json(cells)
        return
    columns = [name for name in ("city", "city_name", "occupation") if any(c[name] for c in cells)]
    rows = [[str(c[name]) or "-" for name in columns]
            + [str(c["open_jobs"]), str(c["openings"]), str(c["active_seekers"]), _number(c["ratio"], ".2f"),
               _number(c["salary_p25"], ",.0f"), _number(c["salary_p50"], ",.0f"), _number(c["salary_p75"], ",.0f")]
            for c in cells]
    _print_table([*columns, "open_jobs", "openings", "seekers", "ratio", "salary_p25", "salary_p50", "salary_p75"],
                 rows, [False] * len(columns) + [True] * 7)


def _records(path: str) -> list[dict[str, str]]:
    frame = read_csv_cells(path)  # the folder loader's reader: missing, empty, GBK or ragged files get a message
    return [{str(k): str(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _cmd_query(args: argparse.Namespace) -> int:
    with MatchClient(args.target, token=args.token, timeout=args.timeout, tls_ca=args.tls_ca) as client:
        try:
            result = _run_query(client, args)
        except grpc.RpcError as exc:
            print(f"matcher: error: {exc.code().name}: {exc.details()}", file=sys.stderr)  # type: ignore[attr-defined]
            return 2
    if args.what in ("jobs", "seekers"):
        _print_matches(result, args.json)
    elif args.what == "nearby":
        _print_nearby(result, args.json)
    elif args.what == "market":
        _print_market(result, args.json)
    elif result is not None:
        _print_json(result)
    return 0


def _items(values: Sequence[str]) -> list[str]:
    """Repeated and comma-separated flag values: `--by city,occupation` = `--by city --by occupation`."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _run_query(client: MatchClient, args: argparse.Namespace) -> Any:
    what = args.what
    if what == "jobs":
        return client.recommend_jobs(args.seeker, k=args.k, cities=args.city, radius_km=args.radius_km,
                                     job_types=args.job_type, salary_floor=args.salary_floor,
                                     exclude_applied=args.exclude_applied)
    if what == "seekers":
        return client.recommend_seekers(args.job, k=args.k, cities=args.city, radius_km=args.radius_km,
                                        priority_groups=args.group)
    if what == "nearby":
        return client.recommend_nearby(args.lat, args.lon, k=args.k, radius_km=args.radius_km,
                                       job_types=_items(args.job_type) or ("gig", "part_time"),
                                       seeker_id=args.seeker)
    if what == "market":
        return client.labour_market(_items(args.by) or ("city", "occupation"), min_cell=args.min_cell,
                                    totals=args.totals, city=args.city or "", limit=args.top)
    if what == "score":
        pairs = [p.split(":", 1) for p in args.pair]
        return {"scores": client.score_pairs([p[0] for p in pairs], [p[-1] for p in pairs])}
    if what == "info":
        return client.model_info()
    if what == "health":
        return {"status": client.health()}
    if what == "reload":
        return client.reload_model(args.version or "")
    if what in ("upsert-jobs", "upsert-seekers", "events"):
        call = {"upsert-jobs": client.upsert_jobs, "upsert-seekers": client.upsert_seekers,
                "events": client.record_events}[what]
        return call(_records(args.csv))
    if what == "delete-jobs":
        return client.delete_jobs(args.ids)
    return client.delete_seekers(args.ids)


def add_service_commands(sub: Any, positive_int: Any) -> None:
    p = sub.add_parser("serve", help="run the gRPC matching service on a data folder and a model")
    p.add_argument("--data", help="FORMAT.md folder the catalogue starts from")
    p.add_argument("--model", help="model directory (serves its CURRENT version)")
    p.add_argument("--journal", help="SQLite file for live writes (default: matcher-journal.sqlite)")
    p.add_argument("--store", help="postgresql://... : keep the journal in PostgreSQL, shared by every replica "
                                   "given the same URL (default: the SQLite --journal)")
    p.add_argument("--host")
    p.add_argument("--port", type=int, help="TCP port (0: any free port; the chosen one is printed)")
    p.add_argument("--as-of", help='serving clock: "data" (as batch, default), "now" or an ISO time')
    p.add_argument("--config", help="TOML settings file (see matcher/service/serve.example.toml)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("query", help="call a running service by hand")
    p.add_argument("--target", default="127.0.0.1:50051", help="HOST:PORT of the service")
    p.add_argument("--token", help="bearer token, if the service requires one")
    p.add_argument("--tls-ca", help="CA certificate (PEM) to verify a TLS service")
    p.add_argument("--timeout", type=float, default=10.0, help="deadline per call, seconds")
    p.add_argument("--json", action="store_true", help="print results as JSON (enums by name)")
    q = p.add_subparsers(dest="what", required=True)
    jobs = q.add_parser("jobs", help="RecommendJobs for a registered seeker")
    jobs.add_argument("--seeker", required=True)
    jobs.add_argument("--job-type", action="append", default=[], help="full_time, part_time, gig, ...")
    jobs.add_argument("--salary-floor", type=float)
    jobs.add_argument("--exclude-applied", action="store_true")
    seekers = q.add_parser("seekers", help="RecommendSeekers for a job")
    seekers.add_argument("--job", required=True)
    seekers.add_argument("--group", action="append", default=[], help="priority group, e.g. graduate")
    for sp in (jobs, seekers):
        sp.add_argument("--k", type=positive_int, default=10)
        sp.add_argument("--city", action="append", default=[], help="admin code or place name (repeatable)")
        sp.add_argument("--radius-km", type=float)
    nearby = q.add_parser("nearby", help="RecommendNearby: open jobs around a location, nearest first")
    nearby.add_argument("--lat", type=float, required=True, help="WGS-84 degrees, -90..90")
    nearby.add_argument("--lon", type=float, required=True, help="WGS-84 degrees, -180..180")
    nearby.add_argument("--radius-km", type=float, default=5.0, help="at most 200 (default: 5)")
    nearby.add_argument("--job-type", "--job-types", dest="job_type", action="append", default=[],
                        help="job types, repeatable or comma-separated (default: gig,part_time)")
    nearby.add_argument("--seeker", help="a registered seeker: also score each job for them")
    nearby.add_argument("--k", type=positive_int, default=10)
    market = q.add_parser("market", help="GetLabourMarket: openings, seekers and salaries per city and occupation")
    market.add_argument("--by", action="append", default=[],
                        help="city, occupation or both, comma-separated (default: city,occupation)")
    market.add_argument("--city", help="only this city (a code or name, e.g. 230100, 哈尔滨)")
    market.add_argument("--top", type=positive_int, default=100, help="most rows, largest openings first")
    market.add_argument("--min-cell", type=positive_int, default=1,
                        help="drop cells with fewer jobs and fewer seekers than this")
    market.add_argument("--totals", action="store_true", help="add per-city and national total rows (key *)")
    score = q.add_parser("score", help="ScorePairs")
    score.add_argument("--pair", action="append", required=True, help="SEEKER_ID:JOB_ID (repeatable)")
    q.add_parser("info", help="GetModelInfo")
    q.add_parser("health", help="grpc.health.v1 status")
    reload = q.add_parser("reload", help="ReloadModel")
    reload.add_argument("--version", help="version under the model directory (default: its CURRENT)")
    for name in ("upsert-jobs", "upsert-seekers", "events"):
        up = q.add_parser(name, help=f"send the rows of a FORMAT.md CSV ({name})")
        up.add_argument("--csv", required=True)
    for name in ("delete-jobs", "delete-seekers"):
        d = q.add_parser(name)
        d.add_argument("ids", nargs="+")
    p.set_defaults(func=_cmd_query)


@dataclasses.dataclass(frozen=True)
class DemoScript:
    """What `matcher demo` sends the service besides the folder's own ids: an unregistered walk-in seeker's profile,
    a job posted live (its posted_at is the service's clock), and the words the reasons are printed with."""

    walk_in: Record
    new_job: Record
    labels: ReasonLabels = EN_LABELS


US_DEMO = DemoScript(
    walk_in={"seeker_id": "walk-in-1", "text": "Looking for: Barista, Cashier. Barista at a coffee shop.",
             "desired_occupations": "Barista|Cashier", "city": "San Francisco, CA"},
    new_job={"job_id": "demo-new-1", "title": "Barista", "text": "Barista and cashier wanted at a coffee shop.",
             "city": "San Francisco, CA", "job_type": "part_time"})
CN_DEMO = DemoScript(
    walk_in={"seeker_id": "walk-in-cn-1", "text": "期望从事数据分析工作，熟悉SQL、Python、Excel，城市 上海",
             "desired_occupations": "数据分析师", "skills": "SQL|Python|Excel", "city": "上海",
             "education": "本科", "experience_years": "3", "expected_salary_min": "10000",
             "expected_salary_max": "15000"},
    new_job={"job_id": "demo-new-cn-1", "title": "数据分析师", "employer_id": "demo-employer-cn-1",
             "text": "负责业务数据的统计分析与日常报表，搭建数据看板。要求熟悉SQL、Python、Excel，本科及以上。",
             "skills": "SQL|Python|Excel|数据分析", "city": "上海", "education_min": "本科",
             "experience_min_years": "1", "salary_min": "12000", "salary_max": "18000", "job_type": "full_time"},
    labels=ZH_LABELS)


def run_demo_service(data_dir: Path, model_dir: Path, matches_csv: Path, journal: Path,
                     script: DemoScript = US_DEMO) -> None:
    """`matcher demo`, step 4: start `matcher serve` in its own process, query it as a platform would, stop it."""
    journal.unlink(missing_ok=True)  # the demo starts from the folder alone each time
    command = [sys.executable, "-m", "matcher.cli", "serve", "--data", str(data_dir), "--model", str(model_dir),
               "--journal", str(journal), "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if "serving" not in line:
            raise MatcherError(f"the demo server did not start (exit code {server.wait(timeout=30)})")
        target = line.rsplit(" ", 1)[-1].strip()
        print(f"  server up: {line.strip()}")
        _demo_queries(MatchClient(target), matches_csv, script)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        print(f"  server stopped cleanly (exit code {server.returncode})")


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    remaining = iter(long)
    return all(item in remaining for item in short)


def _demo_queries(client: MatchClient, matches_csv: Path, script: DemoScript) -> None:
    labels = script.labels
    info = client.model_info()
    print(f"  health {client.health()}; model {info.version}, {info.n_open_jobs:,} open jobs, "
          f"{info.n_seekers:,} seekers")
    batch = pd.read_csv(matches_csv, dtype={"seeker_id": str, "job_id": str})
    seeker = str(batch["seeker_id"].iloc[0])
    got = client.recommend_jobs(seeker, k=10)
    pushed = batch.loc[batch["seeker_id"] == seeker].sort_values("rank")["job_id"].tolist()
    ranking = [m.id for m in client.recommend_jobs(seeker, k=100)]
    print(f"  RecommendJobs(seeker {seeker}): the nightly push's {len(pushed)} jobs come in the same order, "
          f"the push only leaving out jobs already seen or over their cap: "
          f"{'yes' if _is_subsequence(pushed, ranking) else 'NO'}")
    _print_matches(got[:3], as_json=False, labels=labels)
    profile = script.walk_in
    walk_in = client.recommend_jobs(profile=profile, k=3)
    print("  RecommendJobs(inline profile of an unregistered walk-in seeker, k=3):")
    _print_matches(walk_in, as_json=False, labels=labels)
    posted = batch["job_id"].iloc[0]
    print(f"  RecommendSeekers(job {posted}, k=3):")
    _print_matches(client.recommend_seekers(posted, k=3), as_json=False, labels=labels)
    new_id = script.new_job["job_id"]
    job = {**script.new_job, "posted_at": info.as_of}
    write = client.upsert_jobs([job])
    again = [m.id for m in client.recommend_jobs(profile=profile, k=3)]
    rank = again.index(new_id) + 1 if new_id in again else ">3"
    print(f"  UpsertJobs({new_id}) acknowledged at journal sequence {write.sequence}; "
          f"the next RecommendJobs for the walk-in ranks it {rank}")
    client.record_events([{"seeker_id": seeker, "job_id": got[0].id, "event": "applied"}])
    filtered = [m.id for m in client.recommend_jobs(seeker, k=10, exclude_applied=True)]
    print(f"  RecordEvents(applied to {got[0].id}); with exclude_applied it is "
          f"{'gone' if got[0].id not in filtered else 'still there'} from seeker {seeker}'s list")
