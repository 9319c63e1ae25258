"""The `matcher` command line, run in-process: import, train, batch; bad input is exit 2 with file, row, column.

One small model is trained per module (a quarter of the demo seekers, a few seconds) and shared by the batch tests.
"""

from __future__ import annotations

import json
import zlib
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

import matcher
from matcher.cli import main
from matcher.data import load_folder

DATA = Path(__file__).parent / "data"
US_SAMPLE = DATA / "us_job_views_sample"
ZHAOPIN_SAMPLE = DATA / "zhaopin_sample" / "table1_user.csv"
AS_OF = "2015-01-10T00:00:00Z"
EXPIRED_AT = "2015-01-05T00:00:00Z"

Capsys = pytest.CaptureFixture[str]

# --------------------------------------------------------------------------------------------------------------
# Folders and the shared model
# --------------------------------------------------------------------------------------------------------------


def _read_demo(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files("matcher.demo_data").joinpath(name)) as path:
        return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(folder: Path, frames: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / name, index=False, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo folder cut to the seekers whose id hashes to 0 mod 4 (~670), their events and the jobs they saw."""
    seekers, jobs, events = (_read_demo(n) for n in ("seekers.csv", "jobs.csv", "events.csv"))
    events = events[events["seeker_id"].map(lambda s: zlib.crc32(s.encode()) % 4 == 0)]
    return _write(tmp_path_factory.mktemp("small_demo"), {
        "seekers.csv": seekers[seekers["seeker_id"].isin(events["seeker_id"])],
        "jobs.csv": jobs[jobs["job_id"].isin(events["job_id"])],
        "events.csv": events,
    })


@pytest.fixture(scope="module")
def model(small_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "us"
    # 60 trees: these tests need a model the commands can load and run, not its best NDCG.
    assert main(["train", "--data", str(small_demo), "--model", str(path), "--candidates", "50", "--trees", "60"]) == 0
    assert (path / "CURRENT").is_file()
    return path


@pytest.fixture(scope="module")
def batch_folder(small_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """small_demo with an expires_at column: every third job posted before EXPIRED_AT closes then."""
    jobs = pd.read_csv(small_demo / "jobs.csv", dtype=str, keep_default_na=False)
    posted = pd.to_datetime(jobs["posted_at"], utc=True)
    expire = (posted < pd.Timestamp(EXPIRED_AT)) & (jobs.index.to_series() % 3 == 0)
    jobs["expires_at"] = expire.map({True: EXPIRED_AT, False: ""})
    return _write(tmp_path_factory.mktemp("batch"), {
        "seekers.csv": pd.read_csv(small_demo / "seekers.csv", dtype=str, keep_default_na=False),
        "jobs.csv": jobs,
        "events.csv": pd.read_csv(small_demo / "events.csv", dtype=str, keep_default_na=False),
    })


# A tiny hand-written folder; each BAD case swaps one good cell for a bad one.
SEEKERS = """seeker_id,text,skills,city,education,experience_years,expected_salary_min,expected_salary_max
s1,会计 三年经验,Excel|财务,230100,本科,3,6000,9000
s2,Java 开发,Java|Spring,110105,大专,2,10000,15000
s3,Warehouse associate,forklift,"Chicago, IL",,1,,
"""
JOBS = """job_id,employer_id,title,text,skills,city,salary_min,salary_max,job_type,posted_at,expires_at
j1,e1,会计,负责账务,Excel|财务,230100,6000,8000,full_time,2026-01-01,2026-03-01
j2,e2,Java开发工程师,开发,Java,110100,8000,30000,full_time,2026-01-02T08:00:00+08:00,
j3,e3,Forklift driver,Warehouse forklift,forklift,"Chicago, IL",,,part_time,2026-01-03,
"""
EVENTS = """seeker_id,job_id,event,timestamp,value
s1,j1,viewed,2026-01-05T10:00:00Z,35
s2,j2,applied,2026-01-06T10:00:00Z,
s3,j3,viewed,2026-01-07T10:00:00Z,12
"""
BAD = {  # id: (file, good text, same text with the bad cell, bad cell, row as a spreadsheet shows it, column)
    "seekers-number": ("seekers.csv", "大专,2,", "大专,两年,", "两年", 3, "experience_years"),
    "jobs-salary": ("jobs.csv", "110100,8000,", "110100,8千,", "8千", 3, "salary_min"),
    "jobs-type": ("jobs.csv", "part_time", "temp", "temp", 4, "job_type"),
    "events-time": ("events.csv", "2026-01-07T10:00:00Z", "yesterday", "yesterday", 4, "timestamp"),
    "events-kind": ("events.csv", "s2,j2,applied", "s2,j2,clicked", "clicked", 3, "event"),
}


def _tiny(folder: Path, bad: str | None = None) -> Path:
    texts = {"seekers.csv": SEEKERS, "jobs.csv": JOBS, "events.csv": EVENTS}
    if bad is not None:
        name, good, wrong, *_ = BAD[bad]
        assert texts[name].count(good) == 1
        texts[name] = texts[name].replace(good, wrong)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _exit_code(argv: list[str]) -> int:
    """main's return code, or the code of the SystemExit argparse raises for a bad flag."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def _assert_clean_error(err: str, *parts: str) -> None:
    assert err.startswith("matcher: error: "), err
    assert "Traceback" not in err, err
    for part in parts:
        assert part in err, err


# --------------------------------------------------------------------------------------------------------------
# import
# --------------------------------------------------------------------------------------------------------------


def test_import_us_job_views_writes_a_loadable_folder(tmp_path: Path, capsys: Capsys) -> None:
    assert main(["import", "us-job-views", "--src", str(US_SAMPLE), "--out", str(tmp_path / "us")]) == 0
    assert "wrote 15 seekers, 35 jobs, 52 events" in capsys.readouterr().out
    data = load_folder(tmp_path / "us")
    assert (len(data.seekers), len(data.jobs), len(data.events)) == (15, 35, 52)


def test_import_us_job_views_with_start_and_end(tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "dec"
    argv = ["import", "us-job-views", "--src", str(US_SAMPLE), "--out", str(out),
            "--start", "2014-12-01", "--end", "2015-01-01T00:00:00Z"]
    assert main(argv) == 0
    capsys.readouterr()
    events = load_folder(out).events
    assert len(events) == 21  # the raw views from 2014-12-04 21:17:52 to 2014-12-30 18:29:58
    assert events["timestamp"].min() >= pd.Timestamp("2014-12-01T00:00:00Z")
    assert events["timestamp"].max() < pd.Timestamp("2015-01-01T00:00:00Z")


def test_import_zhaopin_writes_seekers(tmp_path: Path, capsys: Capsys) -> None:
    assert main(["import", "zhaopin", "--src", str(ZHAOPIN_SAMPLE), "--out", str(tmp_path / "zp")]) == 0
    assert "wrote 12 seekers" in capsys.readouterr().out
    assert len(load_folder(tmp_path / "zp").seekers) == 12


def test_import_zhaopin_without_a_required_column_is_exit_2(tmp_path: Path, capsys: Capsys) -> None:
    table = pd.read_csv(ZHAOPIN_SAMPLE, dtype=str, keep_default_na=False).drop(columns=["experience"])
    src = tmp_path / "table1_user.csv"
    table.to_csv(src, index=False)
    assert main(["import", "zhaopin", "--src", str(src), "--out", str(tmp_path / "zp")]) == 2
    _assert_clean_error(capsys.readouterr().err, "table1_user.csv", "row 1", "column 'experience'")


def test_import_with_a_bad_start_time_is_exit_2(tmp_path: Path, capsys: Capsys) -> None:
    argv = ["import", "us-job-views", "--src", str(US_SAMPLE), "--out", str(tmp_path), "--start", "not-a-date"]
    assert main(argv) == 2
    _assert_clean_error(capsys.readouterr().err, "not-a-date")


def test_import_from_a_missing_source_is_exit_2(tmp_path: Path, capsys: Capsys) -> None:
    argv = ["import", "us-job-views", "--src", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    _assert_clean_error(capsys.readouterr().err, "nowhere")


# --------------------------------------------------------------------------------------------------------------
# bad data folders: exit 2, file + row + column, no traceback
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", list(BAD))
def test_train_names_the_bad_cell(tmp_path: Path, capsys: Capsys, bad: str) -> None:
    name, _, _, value, row, column = BAD[bad]
    folder = _tiny(tmp_path / "data", bad)
    assert main(["train", "--data", str(folder), "--model", str(tmp_path / "model")]) == 2
    _assert_clean_error(capsys.readouterr().err, f"{name}, row {row}, column '{column}'", f"'{value}'")
    assert not (tmp_path / "model").exists()


@pytest.mark.slow
@pytest.mark.parametrize("bad", list(BAD))
def test_batch_names_the_bad_cell(tmp_path: Path, capsys: Capsys, model: Path, bad: str) -> None:
    name, _, _, value, row, column = BAD[bad]
    folder = _tiny(tmp_path / "data", bad)
    out = tmp_path / "matches.csv"
    assert main(["batch", "--data", str(folder), "--model", str(model), "--out", str(out)]) == 2
    _assert_clean_error(capsys.readouterr().err, f"{name}, row {row}, column '{column}'", f"'{value}'")
    assert not out.exists()


@pytest.mark.slow
def test_batch_on_the_tiny_folder_without_bad_cells_works(tmp_path: Path, capsys: Capsys, model: Path) -> None:
    """Control for the two tests above: the same folder, unbroken, is accepted."""
    out = tmp_path / "matches.csv"
    argv = ["batch", "--data", str(_tiny(tmp_path / "data")), "--model", str(model), "--out", str(out),
            "--k", "2", "--as-of", "2026-01-10T00:00:00Z"]
    assert main(argv) == 0, capsys.readouterr().err
    matches = pd.read_csv(out, dtype={"seeker_id": str, "job_id": str})
    # j1 expired on 2026-03-01, so all three jobs are open on 2026-01-10: two per seeker.
    assert matches.groupby("seeker_id").size().to_dict() == {"s1": 2, "s2": 2, "s3": 2}


def test_train_on_a_folder_without_seekers_is_exit_2(tmp_path: Path, capsys: Capsys) -> None:
    assert main(["train", "--data", str(tmp_path / "empty"), "--model", str(tmp_path / "model")]) == 2
    _assert_clean_error(capsys.readouterr().err, "seekers.csv", "not found")


@pytest.mark.parametrize("exists", [False, True], ids=["no-such-dir", "empty-dir"])
def test_batch_with_a_missing_model_directory_is_exit_2(tmp_path: Path, capsys: Capsys, exists: bool) -> None:
    model_dir = tmp_path / "model"
    if exists:
        model_dir.mkdir()
    out = tmp_path / "matches.csv"
    argv = ["batch", "--data", str(_tiny(tmp_path / "data")), "--model", str(model_dir), "--out", str(out)]
    assert main(argv) == 2
    _assert_clean_error(capsys.readouterr().err, str(model_dir), "not a model directory")
    assert not out.exists()


# --------------------------------------------------------------------------------------------------------------
# train + batch
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 5])
def test_batch_writes_top_k_open_jobs_for_every_seeker(tmp_path: Path, capsys: Capsys, model: Path,
                                                       batch_folder: Path, k: int) -> None:
    out = tmp_path / "matches.csv"
    argv = ["batch", "--data", str(batch_folder), "--model", str(model), "--out", str(out), "--k", str(k),
            "--as-of", AS_OF, "--pushes-per-opening", "0"]  # uncapped: k for everyone when k jobs are open
    assert main(argv) == 0
    assert "matches for" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("seeker_id,rank,job_id,score")
    matches = pd.read_csv(out, dtype={"seeker_id": str, "job_id": str})
    data = load_folder(batch_folder)
    jobs = data.jobs.set_index("job_id")
    when = pd.Timestamp(AS_OF)
    is_open = (jobs["posted_at"] <= when) & (jobs["expires_at"].isna() | (jobs["expires_at"] > when))
    # The folder must hold jobs of every kind for the check to mean something.
    assert is_open.sum() > k and (jobs["posted_at"] > when).any() and (jobs["expires_at"] <= when).any()

    assert set(matches["job_id"]) <= set(jobs.index)
    assert is_open.loc[matches["job_id"]].all(), "a job that is not open at --as-of was matched"
    assert set(matches["seeker_id"]) == set(data.seekers["seeker_id"])
    for seeker, rows in matches.groupby("seeker_id"):
        assert len(rows) == k, seeker  # at most k, and k when at least k jobs are open
        assert list(rows["rank"]) == list(range(1, len(rows) + 1)), seeker
        assert rows["job_id"].is_unique, seeker
        assert rows["score"].is_monotonic_decreasing, seeker


@pytest.mark.slow
def test_batch_with_a_bad_as_of_is_exit_2(tmp_path: Path, capsys: Capsys, model: Path) -> None:
    argv = ["batch", "--data", str(_tiny(tmp_path / "data")), "--model", str(model),
            "--out", str(tmp_path / "m.csv"), "--as-of", "not-a-date"]
    assert main(argv) == 2
    _assert_clean_error(capsys.readouterr().err, "not-a-date")


@pytest.mark.slow
def test_batch_with_a_negative_k_is_rejected(tmp_path: Path, capsys: Capsys, model: Path) -> None:
    argv = ["batch", "--data", str(_tiny(tmp_path / "data")), "--model", str(model),
            "--out", str(tmp_path / "m.csv"), "--k", "-1"]
    assert _exit_code(argv) == 2


def test_market_prints_the_view_and_writes_every_row(tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "market.csv"
    assert main(["market", "--data", str(_tiny(tmp_path / "data")), "--by", "city", "--min-cell", "1",
                 "--totals", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "open jobs" in printed and "active seekers" in printed
    table = pd.read_csv(out)
    assert {"city", "openings", "active_seekers", "ratio"} <= set(table.columns)
    assert (table["city"] == "*").sum() == 1


def test_market_with_a_bad_grouping_is_exit_2(tmp_path: Path, capsys: Capsys) -> None:
    assert main(["market", "--data", str(_tiny(tmp_path / "data")), "--by", "city,planet"]) == 2
    _assert_clean_error(capsys.readouterr().err, "planet")


@pytest.mark.slow
def test_explain_prints_reasons_and_skill_gaps(small_demo: Path, model: Path, capsys: Capsys) -> None:
    seeker = pd.read_csv(small_demo / "events.csv", dtype=str)["seeker_id"].iloc[0]
    assert main(["explain", "--data", str(small_demo), "--model", str(model), "--seeker", seeker, "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "#1 " in out and "#2 " in out and "模型 model:" in out and "stand between" in out
    jobs = pd.read_csv(small_demo / "jobs.csv", dtype=str).set_index("job_id")
    first = out.split("#1 ", 1)[1].split("\n", 1)[0]
    job = first.rsplit("(job ", 1)[1].split(")", 1)[0]
    assert first.startswith(f"{jobs.loc[job, 'title']} · {jobs.loc[job, 'employer_id']} · ")  # issue 16: not ids only
    # The US board lists no skills: an empty gap list says so instead of reading as "nothing missing".
    assert "none: none of the 50 nearest jobs list skills" in out


@pytest.mark.slow
def test_explain_for_an_unknown_seeker_is_exit_2(small_demo: Path, model: Path, capsys: Capsys) -> None:
    assert main(["explain", "--data", str(small_demo), "--model", str(model), "--seeker", "nobody-42"]) == 2
    _assert_clean_error(capsys.readouterr().err, "nobody-42")


@pytest.mark.slow
def test_audit_writes_a_report(small_demo: Path, model: Path, tmp_path: Path, capsys: Capsys) -> None:
    assert main(["audit", "--data", str(small_demo), "--model", str(model), "--report", str(tmp_path / "audit")]) == 0
    assert "audit report" in capsys.readouterr().out
    assert (tmp_path / "audit" / "report.md").is_file() and (tmp_path / "audit" / "audit.json").is_file()


def test_files_the_cli_reads_get_messages_not_tracebacks(tmp_path: Path, capsys: Capsys, small_demo: Path,
                                                         model: Path) -> None:
    """Issue 13: a 0-byte seekers.csv, a header-only one, and missing / empty / GBK files for `query --csv`."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "jobs.csv").write_bytes((small_demo / "jobs.csv").read_bytes())
    (folder / "seekers.csv").write_bytes(b"")
    assert main(["market", "--data", str(folder)]) == 2
    assert "seekers.csv: empty file" in capsys.readouterr().err
    header = (small_demo / "seekers.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "seekers.csv").write_text(header + "\n", encoding="utf-8")
    out = tmp_path / "m.csv"
    assert main(["batch", "--data", str(folder), "--model", str(model), "--out", str(out), "--k", "3"]) == 0
    assert "wrote 0 matches" in capsys.readouterr().out
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "gbk.csv").write_bytes("seeker_id,text\n1,中文\n".encode("gbk"))
    for name, says in (("missing.csv", "file not found"), ("empty.csv", "empty file"), ("gbk.csv", "not UTF-8")):
        argv = ["query", "--target", "127.0.0.1:1", "upsert-seekers", "--csv", str(tmp_path / name)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--trees", "0", "must be between 1 and 20000, got 0"),
    ("--trees", "-5", "must be between 1 and 20000, got -5"),
    ("--holdout-days", "-3", "must not be negative, got -3"),
    ("--holdout-days", "nan", "must not be negative"),
])
def test_train_refuses_bad_numbers_before_any_work(tmp_path: Path, capsys: Capsys, flag: str, value: str,
                                                   message: str) -> None:
    """Issue 16: `--trees 0` used to end in a LightGBM traceback after a minute of work; `--holdout-days -3` passed."""
    code = _exit_code(["train", "--data", str(tmp_path), "--model", str(tmp_path / "m"), flag, value])
    assert code == 2 and not (tmp_path / "m").exists()
    err = capsys.readouterr().err
    assert f"argument {flag}: {message}" in err and "Traceback" not in err


def test_version(capsys: Capsys) -> None:
    assert _exit_code(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"matcher {matcher.__version__}"


@pytest.mark.slow
def test_a_retrain_is_a_challenger_until_promoted_and_rollback_restores_the_champion(
        small_demo: Path, tmp_path: Path, capsys: Capsys) -> None:
    """Issue 16: `matcher train` used to make every retrain CURRENT at once, a worse one included."""
    root = tmp_path / "m"
    train = ["train", "--data", str(small_demo), "--model", str(root), "--candidates", "20", "--trees", "5"]
    assert main(train) == 0
    first = (root / "CURRENT").read_text(encoding="utf-8").strip()
    assert f"champion: {first}" in capsys.readouterr().out
    assert main(train) == 0
    out = capsys.readouterr().out
    second = out.split("challenger: ", 1)[1].split(";", 1)[0]
    assert second != first and (root / "CURRENT").read_text(encoding="utf-8").strip() == first
    assert main(["models", "list", "--model", str(root)]) == 0
    listing = capsys.readouterr().out
    assert f"* {first}" in listing and f"  {second}" in listing
    assert f"matcher models promote {second} --model {root}" in out
    assert main(["models", "promote", second, "--model", str(root)]) == 0
    assert (root / "CURRENT").read_text(encoding="utf-8").strip() == second
    assert main(["models", "rollback", "--model", str(root)]) == 0
    assert (root / "CURRENT").read_text(encoding="utf-8").strip() == first
    assert main(["models", "show", "--model", str(root)]) == 0 and first in capsys.readouterr().out
    assert _exit_code(["models", "promote", "no-such-version", "--model", str(root)]) == 2
    assert main(["train", *train[1:], "--promote"]) == 0
    assert (root / "CURRENT").read_text(encoding="utf-8").strip() not in (first, second)


def test_models_compare_refuses_what_it_cannot_compare(model: Path, small_demo: Path, capsys: Capsys) -> None:
    version = (model / "CURRENT").read_text(encoding="utf-8").strip()
    assert _exit_code(["models", "compare", "--model", str(model)]) == 2
    _assert_clean_error(capsys.readouterr().err, "--data is required")
    assert _exit_code(["models", "compare", version, "--model", str(model), "--data", str(small_demo)]) == 2
    _assert_clean_error(capsys.readouterr().err, "A and B are both")
    assert _exit_code(["models", "compare", "a", "b", "c", "--model", str(model), "--data", str(small_demo)]) == 2
    _assert_clean_error(capsys.readouterr().err, "too many versions")
    assert _exit_code(["models", "compare", version, "20990101T000000Z-00000000", "--model", str(model),
                       "--data", str(small_demo)]) == 2
    _assert_clean_error(capsys.readouterr().err, "no such model version")


def test_promote_margin_needs_a_hold_out_and_says_so_before_any_work(tmp_path: Path, small_demo: Path,
                                                                     capsys: Capsys) -> None:
    argv = ["train", "--data", str(small_demo), "--model", str(tmp_path / "m"), "--holdout-days", "0",
            "--promote-margin", "0.02"]
    assert _exit_code(argv) == 2
    _assert_clean_error(capsys.readouterr().err, "--promote-margin", "--holdout-days")
    assert not (tmp_path / "m").exists()
    assert _exit_code([*argv[:-1], "-0.5"]) == 2


def test_report_plots_name_the_report_they_belong_to(tmp_path: Path) -> None:
    """Issue 16: metrics.png had no title or model version; read alone it said nothing of whose numbers."""
    from PIL import Image

    from models.report import write_report

    write_report(tmp_path, title="Evaluation of model 20261203T000000Z-abc", results={"m": {"ndcg@10": 0.1}})
    with Image.open(tmp_path / "metrics.png") as png:
        assert png.text["Title"] == "Evaluation of model 20261203T000000Z-abc"


def test_train_shows_tree_progress_and_a_short_summary_not_raw_json(small_demo: Path, tmp_path: Path,
                                                                     capsys: Capsys) -> None:
    """Issue 16: train was silent while LightGBM fitted (minutes), then printed ~60 lines of raw JSON."""
    root = tmp_path / "m"
    assert main(["train", "--data", str(small_demo), "--model", str(root), "--candidates", "20", "--trees", "5"]) == 0
    out, err = capsys.readouterr()
    assert "trees: 5/5" in err and "valid ndcg@10" in err and "refit on train + validation, trees:" in err
    assert "trained on " in out and "queries" in out and "NDCG@10" in out
    assert "{" not in out and '"best_iteration"' not in out and len(out.splitlines()) <= 6
    meta = json.loads(next(root.glob("versions/*/meta.json")).read_text(encoding="utf-8"))
    assert {"n_train_queries", "valid_ndcg@10", "best_iteration"} <= set(meta["training"])
