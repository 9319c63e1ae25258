"""`matcher demo`: the built-in data end to end, as a new user would run it.

US: real job-board views, so a learned ranker, evaluated against baselines, served and audited. China: a committed
sample of real Zhaopin / Lagou postings and Zhaopin seekers in their raw formats, through both importers, day-one
training (no events yet), the nightly push, the service and a counsellor's view, with reasons in Chinese.
"""

from __future__ import annotations

import unicodedata
from importlib import resources
from pathlib import Path

import pandas as pd

from matcher.engine.reasons import reasons_from_text
from matcher.service.commands import CN_DEMO, ZH_LABELS, format_reasons, run_demo_service

__all__ = ["run_demo"]


def _run(argv: list[str]) -> None:
    """One `matcher` command, as typed; the demo stops at the first that fails (its message is already out)."""
    from matcher.cli import main

    code = main(argv)
    if code != 0:
        raise SystemExit(code)


def run_demo(work: Path, only: str | None = None) -> int:
    """Both demos (`only`: "us" or "cn" for one), under `work` (the Chinese one in work/cn)."""
    if only in (None, "us"):
        _demo_us(work)
    if only in (None, "cn"):
        _demo_cn(work / "cn")
    return 0


def _demo_us(work: Path) -> None:
    """The US job board: real views, so a learned ranker, evaluated against baselines and audited."""
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    demo = resources.files("matcher.demo_data")
    for name in ("seekers.csv", "jobs.csv", "events.csv"):
        (data_dir / name).write_bytes(demo.joinpath(name).read_bytes())
    print(f"[1/5] training on the built-in demo data (real US job-board views, see {data_dir})")
    model_dir, report_dir, matches = work / "model", work / "report", work / "matches.csv"
    _run(["train", "--data", str(data_dir), "--model", str(model_dir)])
    print("[2/5] evaluating the model against baselines on the held-out last 14 days")
    _run(["evaluate", "--data", str(data_dir), "--model", str(model_dir), "--report", str(report_dir)])
    print("[3/5] batch matching: top-10 open jobs for every seeker")
    _run(["batch", "--data", str(data_dir), "--model", str(model_dir), "--out",
          str(matches), "--k", "10"])
    print("[4/5] serving the model over gRPC (matcher serve) and querying it (matcher.service.MatchClient)")
    run_demo_service(data_dir, model_dir, matches, work / "journal.sqlite")
    print("[5/5] public-employment views: labour market by city, a counsellor's explanation, the fairness audit")
    _run(["market", "--data", str(data_dir), "--by", "city", "--top", "5"])
    seeker = pd.read_csv(matches, dtype=str, nrows=1)["seeker_id"].iloc[0]
    _run(["explain", "--data", str(data_dir), "--model", str(model_dir), "--seeker",
          seeker, "--k", "1", "--gaps", "5"])
    _run(["audit", "--data", str(data_dir), "--model", str(model_dir), "--report",
          str(work / "audit")])
    print(f"\nmatches: {matches}\nreport:  {report_dir / 'report.md'}\naudit:   {work / 'audit' / 'report.md'}"
          f"\nmodel:   {model_dir}")


_CN_SEEKER_TABLE = "table1_user.csv"  # the Zhaopin seeker table; the other files of matcher/demo_data/cn are postings


def _demo_cn(work: Path) -> None:
    """The Chinese catalogue: a sample of real postings and seekers in their raw formats through both importers,
    day-one training (no events yet), the nightly push, the service and a counsellor's view; reasons in Chinese."""
    raw_postings, raw_seekers = work / "raw" / "postings", work / "raw" / "zhaopin"
    imported, data_dir = work / "import", work / "data"
    for folder in (raw_postings, raw_seekers, data_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for item in resources.files("matcher.demo_data.cn").iterdir():
        if item.name.endswith(".csv"):
            target = raw_seekers if item.name == _CN_SEEKER_TABLE else raw_postings
            (target / item.name).write_bytes(item.read_bytes())
    print(f"[cn 1/4] importing real Zhaopin / Lagou postings and Zhaopin seekers in their raw formats "
          f"(matcher/demo_data/cn, copied to {work / 'raw'})")
    _run(["import", "cn-postings", "--src", str(raw_postings), "--out",
          str(imported / "postings")])
    _run(["import", "zhaopin", "--src", str(raw_seekers / _CN_SEEKER_TABLE), "--out",
          str(imported / "zhaopin")])
    for name, source in (("jobs.csv", "postings"), ("events.csv", "postings"), ("seekers.csv", "zhaopin")):
        (data_dir / name).write_bytes((imported / source / name).read_bytes())
    print(f"  {data_dir}: jobs.csv from the postings, seekers.csv from the seekers, events.csv empty (no one has "
          "applied yet)")
    print("[cn 2/4] training: with no events, `matcher train` saves the day-one content ranker")
    model_dir, matches = work / "model", work / "matches.csv"
    _run(["train", "--data", str(data_dir), "--model", str(model_dir)])
    print("[cn 3/4] batch matching: top-10 open jobs for every seeker")
    _run(["batch", "--data", str(data_dir), "--model", str(model_dir), "--out",
          str(matches), "--k", "10"])
    print("[cn 4/4] serving the model over gRPC with a Chinese walk-in seeker and a new job; a counsellor's "
          "explanation; matches with their reasons")
    run_demo_service(data_dir, model_dir, matches, work / "journal.sqlite", CN_DEMO)
    shown = _cn_showcase(data_dir, matches)
    _run(["explain", "--data", str(data_dir), "--model", str(model_dir), "--seeker",
          shown[0], "--k", "1", "--gaps", "5"])
    _print_cn_matches(data_dir, matches, shown)
    print(f"\nmatches: {matches}\nmodel:   {model_dir}")


def _cn_showcase(data_dir: Path, matches: Path, n: int = 3, k: int = 3) -> list[str]:
    """`n` seekers to show, of different first desired types: those whose top `k` share the most skills with them,
    in the file's order among equals."""
    top = pd.read_csv(matches, dtype=str, keep_default_na=False)
    top = top[top["rank"].astype(int) <= k]
    skills = top["reasons"].str.contains("skills=").groupby(top["seeker_id"], sort=False).sum()
    seekers = pd.read_csv(data_dir / "seekers.csv", dtype=str, keep_default_na=False)
    wish = seekers.set_index("seeker_id")["desired_occupations"].str.split("|").str[0]
    order = pd.DataFrame({"skills": skills, "wish": wish.reindex(skills.index), "at": range(len(skills))})
    order = order.sort_values(["skills", "at"], ascending=[False, True], kind="stable")
    return list(order.drop_duplicates("wish").index[:n])


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int) -> str:
    """`text` cut to `width` terminal columns (CJK characters take two) and padded to it."""
    while _display_width(text) > width:
        text = text[:-2] + "…"
    return text + " " * (width - _display_width(text))


def _print_cn_matches(data_dir: Path, matches: Path, seekers: list[str], k: int = 3) -> None:
    """The seekers' top-k as a counsellor would read them: wish and city, then job, employer, city and the reasons
    (matches.csv's `reasons`, worded in Chinese)."""
    from matcher.policy.market import place_names as named

    people = pd.read_csv(data_dir / "seekers.csv", dtype=str, keep_default_na=False).set_index("seeker_id")
    jobs = pd.read_csv(data_dir / "jobs.csv", dtype=str, keep_default_na=False).set_index("job_id")
    top = pd.read_csv(matches, dtype=str, keep_default_na=False)
    top = top[top["seeker_id"].isin(seekers) & (top["rank"].astype(int) <= k)]
    print(f"top-{k} matches of {len(seekers)} seekers (reasons from {matches.name}):")
    print(f"  {'#':>2}  {_cell('职位', 26)}  {_cell('雇主', 30)}  {_cell('城市', 6)}  推荐理由")
    for seeker in seekers:
        person = people.loc[seeker]
        wishes = "、".join(person["desired_occupations"].split("|")[:2])
        print(f"  求职者 {seeker[:8]}: 期望 {wishes}，现居 {named(pd.Series([person['city']])).iloc[0]}")
        rows = top[top["seeker_id"] == seeker].sort_values("rank", key=lambda r: r.astype(int))
        offered = jobs.loc[rows["job_id"]]
        for rank, title, employer, city, reasons in zip(rows["rank"], offered["title"], offered["employer_name"],
                                                        named(offered["city"]), rows["reasons"], strict=True):
            print(f"  {rank:>2}  {_cell(title, 26)}  {_cell(employer, 30)}  {_cell(city, 6)}  "
                  f"{format_reasons(reasons_from_text(reasons), ZH_LABELS)}")
