"""Two-way fit on synthetic data with a known funnel: does the employer side help placements, and what does it cost?

    python -m benchmarks.bench_two_way --seekers 12000 --jobs 3000 --seeds 11 12 --selectivity 0 3

Per (seed, employer selectivity): `synthetic.generate` (20 interactions per seeker; selectivity 0: employers
accept what seekers want, 3: they also want experience and education above the post's), `matcher train --two-way`
with the weight tuned on validation placements, `matcher evaluate` on the 14-day hold-out. The mutual score and the
seeker side alone re-rank the same retrieval candidates; both are scored on all outcomes (NDCG@10, what the seeker
side is trained for) and on interviews and hires only (placements, what two-way fit is for). This measures quality,
not speed, so there is no baseline ratio: the seeker side alone is the baseline. Results go to `--out` as Markdown
and JSON.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.reporting import write_json
from matcher import api
from matcher.offline.synthetic import generate
from matcher.offline.training import TrainConfig
from matcher.progress import Progress
from models.report import markdown_table


def _one(root: Path, n_seekers: int, n_jobs: int, seed: int, selectivity: float, candidates: int) -> dict[str, Any]:
    generate(n_seekers, n_jobs, seed=seed, events_per_seeker=20.0,
             employer_selectivity=selectivity).write(root / "data")
    data = api.load_data(root / "data")
    bundle, summary = api.train(data, TrainConfig(two_way=True, n_candidates=candidates))
    api.save(bundle, root / "model", data)
    result = api.evaluate(api.load(root / "model"), data, root / "report", n_candidates=candidates)
    side = summary["employer_side"]
    row: dict[str, Any] = {"seed": seed, "selectivity": selectivity, "applications": side["n_applications"],
                           "accepted": side["n_accepted"], "employer_auc": side.get("valid_auc"),
                           "weight": side.get("weight", 0.0)}
    placed = result["placements"]
    mutual = "lightgbm"
    alone = "seeker_side_only" if "seeker_side_only" in result["results"] else "lightgbm"
    row |= {"ndcg10_all_mutual": result["results"][mutual]["ndcg@10"],
            "ndcg10_all_seeker": result["results"][alone]["ndcg@10"],
            "placed_queries": placed[mutual]["queries"] if placed else 0,
            "ndcg10_placed_mutual": placed[mutual]["ndcg@10"] if placed else None,
            "ndcg10_placed_seeker": placed[alone]["ndcg@10"] if placed else None}
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_two_way", description=__doc__)
    parser.add_argument("--seekers", type=int, default=12_000)
    parser.add_argument("--jobs", type=int, default=3_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12])
    parser.add_argument("--selectivity", type=float, nargs="+", default=[0.0, 3.0])
    parser.add_argument("--candidates", type=int, default=100, help="retrieval depth for training and evaluation")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    runs = [(seed, sel) for sel in args.selectivity for seed in args.seeds]
    rows = []
    progress = Progress("two-way runs", len(runs))
    with tempfile.TemporaryDirectory() as tmp:
        for seed, sel in runs:
            rows.append(_one(Path(tmp) / f"{seed}_{sel:g}", args.seekers, args.jobs, seed, sel, args.candidates))
            progress.advance()
    progress.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = {f"seed {r['seed']}, selectivity {r['selectivity']:g}": r for r in rows}
    columns = ["applications", "accepted", "employer_auc", "weight", "ndcg10_all_seeker", "ndcg10_all_mutual",
               "placed_queries", "ndcg10_placed_seeker", "ndcg10_placed_mutual"]
    text = "\n".join([
        "# Two-way fit on synthetic data", "",
        f"`python -m benchmarks.bench_two_way --seekers {args.seekers} --jobs {args.jobs} --seeds "
        f"{' '.join(map(str, args.seeds))} --selectivity {' '.join(f'{s:g}' for s in args.selectivity)} "
        f"--candidates {args.candidates}`", "",
        "Hold-out = the last 14 days. `*_seeker`: the seeker-side ranker alone (the baseline); `*_mutual`: seeker "
        "score + weight x log p(employer accepts), weight tuned on validation placements (0 = employer side "
        "dropped). `placed`: scored on interviews and hires only.", "",
        markdown_table(table, columns, first="run", digits=4), ""])
    (out / "two_way.md").write_text(text, encoding="utf-8")
    write_json(out / "two_way.json", rows)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
