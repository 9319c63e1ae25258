"""Day one: a platform with seekers and jobs and no log gets a working model that says what it is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.pairs import FEATURE_NAMES, HISTORY_FEATURES, blank_history
from matcher import api
from matcher.adapters.cn_postings import convert_cn_postings
from matcher.cli import main
from matcher.offline.day_one import DAY_ONE, LEARNED, content_ranker
from matcher.offline.synthetic import generate

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).parent / "data" / "cn_postings"

# One seeker per posting family of the committed real sample, written as a Zhaopin seeker would be: desired job
# type, skills, home city. Each must get a job of its own family first.
_FAMILIES = {
    "ui": ("UI设计师", "界面设计|交互设计|UI设计", "440300", ("UI", "设计")),
    "java": ("Java开发工程师", "Java|Spring|MySQL", "610100", ("java",)),
    "data": ("数据分析师", "数据分析|SQL|数据挖掘", "310100", ("数据",)),
    "frontend": ("Web前端工程师", "JavaScript|HTML5|CSS|Vue", "330200", ("前端", "web")),
    "python": ("Python开发工程师", "Python|爬虫", "110100", ("python",)),
}


@pytest.fixture(scope="module")
def chinese_platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cn_day_one")
    convert_cn_postings(SAMPLE, root)
    seekers = pd.DataFrame({
        "seeker_id": list(_FAMILIES),
        "text": [f"希望从事{title}相关工作，熟悉{skills.replace('|', '、')}。" for title, skills, _, _ in
                 _FAMILIES.values()],
        "skills": [skills for _, skills, _, _ in _FAMILIES.values()],
        "city": [city for _, _, city, _ in _FAMILIES.values()],
        "desired_occupations": [title for title, _, _, _ in _FAMILIES.values()],
    })
    (root / "seekers.csv").write_text(seekers.to_csv(index=False), encoding="utf-8")
    return root


def test_blanking_leaves_content_and_hides_history() -> None:
    X = np.arange(3 * len(FEATURE_NAMES), dtype=np.float32).reshape(3, -1)
    blank = blank_history(X)
    history = [FEATURE_NAMES.index(n) for n in HISTORY_FEATURES]
    content = [i for i, n in enumerate(FEATURE_NAMES) if n not in HISTORY_FEATURES and n != "content_match"]
    assert np.isnan(blank[:, history]).all()
    np.testing.assert_array_equal(blank[:, content], X[:, content])
    column = FEATURE_NAMES.index("content_match")
    assert (blank[:, column] < X[:, column]).all()  # hist_cos & co. taken out of the hand-weighted sum


def test_the_shipped_content_ranker_fits_these_features_and_never_splits_on_history() -> None:
    ranker, summary = content_ranker()
    assert ranker.feature_names_ == list(FEATURE_NAMES)
    importance = dict(zip(ranker.feature_names_, ranker.booster_.feature_importance("split"), strict=True))
    assert all(importance[name] == 0 for name in HISTORY_FEATURES)
    assert summary["valid_ndcg@10"] > 0.3  # the synthetic utility is learnable from content alone


def test_train_without_events_makes_a_day_one_model_that_ranks_each_family_first(chinese_platform: Path,
                                                                                 tmp_path: Path) -> None:
    data = api.load_data(chinese_platform)
    assert len(data.events) == 0
    bundle, summary = api.train(data)
    assert summary["kind"] == DAY_ONE and "0 positive events" in summary["why"]
    path = api.save(bundle, tmp_path / "model", data)
    loaded = api.load(tmp_path / "model")
    assert loaded.meta["kind"] == DAY_ONE and path.is_dir()
    recs = api.recommend(loaded, data, k=3)
    titles = data.jobs.set_index("job_id")["title"].str.lower()
    for seeker, (_, _, _, words) in _FAMILIES.items():
        first = recs[(recs["seeker_id"] == seeker) & (recs["rank"] == 1)]["job_id"].iloc[0]
        assert any(w.lower() in titles[first] for w in words), (seeker, titles[first])


def test_cli_train_names_the_kind_and_batch_serves_it(chinese_platform: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", str(chinese_platform), "--model", str(tmp_path / "m")]) == 0
    assert f"({DAY_ONE} (events.csv has 0 positive events" in capsys.readouterr().out
    out = tmp_path / "matches.csv"
    assert main(["batch", "--data", str(chinese_platform), "--model", str(tmp_path / "m"), "--k", "3",
                 "--out", str(out)]) == 0
    matches = pd.read_csv(out, dtype=str)
    assert set(matches["seeker_id"]) == set(_FAMILIES)
    assert matches.loc[matches["rank"] == "1", "reasons"].notna().all()  # the best match always says why


def test_a_short_log_trains_on_shorter_windows_instead_of_refusing(tmp_path: Path) -> None:
    generate(1500, 300, seed=4, events_per_seeker=8.0, days=12).write(tmp_path / "data")
    data = api.load_data(tmp_path / "data")
    config = api.TrainConfig(holdout_days=0, n_candidates=50, n_random_negatives=20, text_dim=32, n_estimators=20,
                             early_stopping_rounds=10, smoothing_trees=5)
    bundle, summary = api.train(data, config)
    assert summary["kind"] == LEARNED and "windows" in summary["windows_shortened"]
    assert bundle.meta["kind"] == LEARNED and summary["n_train_queries"] > 0
