"""Does a Chinese segmenter (jieba) help the text encoder? Issue 15 item 4, measured on real postings.

    .venv/bin/matcher import cn-postings --src /work/shared/data/cn_job_postings --out /tmp/cnjobs
    .venv/bin/python -m pip install --target /tmp/jiebapkg jieba==0.42.1   # private folder, not a dependency
    .venv/bin/python -m benchmarks.bench_cn_text --jobs /tmp/cnjobs/jobs.csv --out /tmp/cn_text

Representations, each fitted once on every posting's title + " " + text (what `fit_encoder` feeds the engine):
(a) the engine's `TextEncoder.lexical` rows ([char_wb 2-3-grams | regex words], each half cut to 64 terms and unit
length; score = char cosine + word cosine), (b) TF-IDF over `jieba.lcut` words (sublinear_tf, min_df=2; cosine),
(c) (a)'s char half + (b)'s words as the word half, built like (a), (d) (a)'s rows + (b)'s words as a third half
(score = sum of the three half cosines). All read the encoder's redacted text.
Tasks: title (and title + text) nearest neighbours within a Lagou file, P@10 = share with the same occupation label;
Zhaopin title + text neighbours, P@10 = share sharing >= 1 skill tag (tags never enter the text). Rows are shuffled
once (seeded) so that ties break at random; "chance" = P@10 of random candidates; Δ CIs: bootstrap over titles.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import threadpool_limits

from benchmarks.reporting import code_version, cpu_name, table
from features.text import TextEncoder, _top_terms, _unit_rows

Transform = Callable[[np.ndarray], sp.csr_matrix]
RelBlock = Callable[[int, int], np.ndarray]
_WORDLIKE = re.compile(r"\w")
K = 10
NAMES = {"a": "(a) engine char+word", "b": "(b) jieba words", "c": "(c) char + jieba", "d": "(d) engine + jieba"}
OCCUPATION = {"lagou_analyst_2017": "secondType (else firstType)", "lagou_lonlat_2019": "thirdType (else 2nd/1st)"}
TAGGED = ("zhilian_cards_2024", "zhilian_beijing_2020")


def progress(message: str) -> None:
    print(f"[bench_cn_text] {message}", flush=True)


def load_jieba(path: str) -> ModuleType | None:
    if Path(path).is_dir() and path not in sys.path:
        sys.path.insert(0, path)
    try:
        jieba = importlib.import_module("jieba")  # no type stubs: imported by name
    except ImportError:
        return None
    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def fit_all(texts: np.ndarray, jieba: ModuleType | None) -> tuple[dict[str, Transform], dict[str, Any], Any]:
    """Fit every representation on `texts`; return the transforms, vocabulary sizes and fit/transform seconds."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    enc = TextEncoder(seed=0).fit(texts)
    seconds["a_fit"] = time.perf_counter() - start
    reps: dict[str, Transform] = {"a": enc.lexical}
    vocab = {"a": {"char": len(enc.char_.vocabulary_), "word": len(enc.word_.vocabulary_)}}
    if jieba is not None:
        def tokens(text: str) -> list[str]:
            return [t for t in jieba.lcut(text) if _WORDLIKE.search(t)]

        start = time.perf_counter()
        vec = TfidfVectorizer(tokenizer=tokens, token_pattern=None, lowercase=True, min_df=2, sublinear_tf=True,
                              dtype=np.float32).fit(enc.prepare(texts))
        seconds["b_fit"] = time.perf_counter() - start
        seconds["c_fit"] = seconds["d_fit"] = seconds["a_fit"] + seconds["b_fit"]

        def words(batch: np.ndarray) -> sp.csr_matrix:
            return _unit_rows(vec.transform(enc.prepare(batch)))

        def halves(batch: np.ndarray, engine: bool) -> sp.csr_matrix:
            prepared, terms = enc.prepare(batch), enc.lexical_terms
            first = enc.lexical(prepared, prepared=True) if engine else _unit_rows(
                _top_terms(enc.char_.transform(prepared), terms))
            parts = [first, _unit_rows(_top_terms(vec.transform(prepared), terms))]
            return sp.csr_matrix(sp.hstack(parts, format="csr"), dtype=np.float32)

        reps |= {"b": words, "c": lambda batch: halves(batch, False), "d": lambda batch: halves(batch, True)}
        vocab |= {"b": {"char": 0, "word": len(vec.vocabulary_)},
                  "c": {"char": len(enc.char_.vocabulary_), "word": len(vec.vocabulary_)},
                  "d": {"char": len(enc.char_.vocabulary_), "word": len(enc.word_.vocabulary_) + len(vec.vocabulary_)}}
    for name, transform in reps.items():
        start = time.perf_counter()
        transform(texts)
        seconds[f"{name}_transform"] = time.perf_counter() - start
    return reps, vocab, seconds


def evaluate(x: sp.csr_matrix, relevant: RelBlock, titles: np.ndarray, drop_same_title: bool,
             block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Per query: P@K of its K best-scoring other rows, and P@K of random candidates (chance)."""
    n, xt = x.shape[0], sp.csr_matrix(x.T)
    precision, chance = np.zeros(n), np.zeros(n)
    for s in range(0, n, block):
        e = min(s + block, n)
        score = np.asarray((x[s:e] @ xt).toarray(), dtype=np.float64)
        valid = np.ones_like(score, dtype=bool)
        valid[np.arange(e - s), np.arange(s, e)] = False
        if drop_same_title:
            valid &= titles[s:e, None] != titles[None, :]
        score[~valid] = -np.inf
        top = np.argpartition(-score, K, axis=1)[:, :K]
        rel = relevant(s, e)
        precision[s:e] = np.take_along_axis(rel, top, axis=1).mean(axis=1)
        chance[s:e] = (rel & valid).sum(axis=1) / valid.sum(axis=1)
    return precision, chance


def delta_ci(diff: np.ndarray, clusters: np.ndarray, rng: np.random.Generator, n_boot: int = 1000) -> list[float]:
    """Mean per-query difference and its 95% bootstrap interval, resampling whole title clusters."""
    _, inverse = np.unique(clusters, return_inverse=True)
    sums, counts = np.bincount(inverse, diff), np.bincount(inverse).astype(np.float64)
    weights = rng.multinomial(len(sums), np.full(len(sums), 1 / len(sums)), size=n_boot).astype(np.float64)
    boot = (weights @ sums) / (weights @ counts)
    return [float(diff.mean()), float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]


def run_task(frame: pd.DataFrame, column: str, relevant: RelBlock, reps: dict[str, Transform],
             rng: np.random.Generator) -> list[dict[str, Any]]:
    titles = pd.factorize(frame["title"].str.strip().str.lower())[0]
    mats = {name: transform(frame[column].to_numpy(dtype=object)) for name, transform in reps.items()}
    rows = []
    for drop in (False, True):
        out: dict[str, Any] = {"queries": len(frame), "same_title": "excluded" if drop else "kept"}
        scores = {name: evaluate(x, relevant, titles, drop) for name, x in mats.items()}
        out["chance"] = float(scores["a"][1].mean())
        for name, (precision, _) in scores.items():
            out[name] = float(precision.mean())
            out[f"empty_{name}"] = float((np.diff(mats[name].indptr) == 0).mean())
            if name != "a":
                out[f"delta_{name}"] = delta_ci(precision - scores["a"][0], titles, rng)
        rows.append(out)
    return rows


def tag_matrix(skills: pd.Series) -> sp.csr_matrix:
    items = skills.str.lower().str.split("|").explode().str.strip()
    items = items[items.ne("")]
    codes, _ = pd.factorize(items)
    rows = items.index.to_numpy()  # the frame's RangeIndex: row numbers
    return sp.csr_matrix((np.ones(len(codes), np.float32), (rows, codes)), shape=(len(skills), codes.max() + 1))


def tasks(jobs: pd.DataFrame, reps: dict[str, Transform], rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    occupation, skills = [], []
    for source in OCCUPATION:
        part = jobs[jobs["source"].eq(source) & jobs["occupation"].ne("")].reset_index(drop=True)
        labels = pd.factorize(part["occupation"])[0]

        def same_label(s: int, e: int, labels: np.ndarray = labels) -> np.ndarray:
            return np.asarray(labels[s:e, None] == labels[None, :])

        for column, field in (("title", "title"), ("title_text", "title + text")):
            progress(f"occupation: {source}, {field}, {len(part):,} queries, {labels.max() + 1} labels")
            occupation += [{"set": source, "field": field, **r} for r in run_task(part, column, same_label, reps, rng)]
    for source in TAGGED:
        part = jobs[jobs["source"].eq(source) & jobs["skills"].ne("")].reset_index(drop=True)
        tags = tag_matrix(part["skills"])

        def shares(s: int, e: int, tags: sp.csr_matrix = tags, tags_t: sp.spmatrix = tags.T) -> np.ndarray:
            return np.asarray((tags[s:e] @ tags_t).toarray() > 0)

        progress(f"skills: {source}, title + text, {len(part):,} queries, {tags.shape[1]:,} distinct tags")
        skills += [{"set": source, "field": "title + text", **r}
                   for r in run_task(part, "title_text", shares, reps, rng)]
    return occupation, skills


def report(results: dict[str, Any]) -> str:
    reps = [r for r in "abcd" if r in results["cost"]]
    pct = "{:.3f}".format

    def rows(task: list[dict[str, Any]]) -> list[list[str]]:
        out = []
        for r in task:
            deltas = [f"{r[f'delta_{n}'][0]:+.3f} [{r[f'delta_{n}'][1]:+.3f}, {r[f'delta_{n}'][2]:+.3f}]"
                      for n in reps[1:]]
            empty = "/".join(f"{100 * r[f'empty_{n}']:.1f}" for n in reps)
            out.append([r["set"], r["field"], r["same_title"], f"{r['queries']:,}", pct(r["chance"]),
                        *(pct(r[n]) for n in reps), *deltas, empty])
        return out

    head = ["set", "field", "same-title rows", "queries", "chance", *(NAMES[n] for n in reps),
            *(f"Δ {n}−a [95% CI]" for n in reps[1:]), "empty rows % (" + "/".join(reps) + ")"]
    align = "lllrr" + "r" * (2 * len(reps) - 1) + "r"
    cost = [[NAMES[n], f"{c['fit_s_per_10k']:.2f}", f"{c['transform_s_per_10k']:.2f}", f"{c['total_s_per_10k']:.2f}",
             f"{c['vocab_char']:,}", f"{c['vocab_word']:,}"] for n, c in results["cost"].items()]
    return "\n\n".join([
        "# Chinese text: engine char n-grams vs jieba words",
        f"`{results['command']}`",
        f"Code {results['code']}, {results['cpu']}, {results['threads']} BLAS thread(s); {results['corpus']:,} "
        f"postings (title + text, mean {results['mean_chars']:.0f} chars) fitted; {results['jieba']}.",
        "## 1. Title → occupation (Lagou): P@10 of the same occupation label",
        "Labels: " + "; ".join(f"{k}: {v}" for k, v in OCCUPATION.items()) + ". Neighbours within the same file.",
        table(head, rows(results["occupation"]), align),
        "## 2. Title + text → skill tags (Zhaopin): P@10 of sharing ≥ 1 tag",
        table(head, rows(results["skills"]), align),
        f"## 3. Cost (median of {len(results['runs'])} fits on the whole corpus, seconds per 10k documents)",
        "(a) fit includes the engine's 96-dim SVD; (c), (d) fit = (a) fit + (b) fit. jieba dictionary load (once): "
        f"{results['jieba_init_s']:.2f} s.",
        table(["representation", "fit s/10k", "transform s/10k", "total s/10k", "char vocab", "word vocab"], cost,
              "lrrrrr"),
    ]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cn_text", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", default="/tmp/cnjobs/jobs.csv", help="jobs.csv of `matcher import cn-postings`")
    parser.add_argument("--out", default="/tmp/cn_text")
    parser.add_argument("--jieba-path", default="/tmp/jiebapkg", help="private folder holding jieba (pip --target)")
    parser.add_argument("--runs", type=int, default=3, help="fits timed (the median is reported)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (the SVD)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    jobs = pd.read_csv(args.jobs, dtype=str, keep_default_na=False)
    jobs = jobs.iloc[rng.permutation(len(jobs))].reset_index(drop=True)
    jobs["title_text"] = jobs["title"] + " " + jobs["text"]
    corpus = jobs["title_text"].to_numpy(dtype=object)
    progress(f"{len(jobs):,} postings from {args.jobs}")
    start = time.perf_counter()
    jieba = load_jieba(args.jieba_path)
    init = time.perf_counter() - start
    progress(f"jieba {jieba.__version__} loaded in {init:.2f} s" if jieba else "jieba not installed: skipped")
    runs = []
    with threadpool_limits(args.threads):
        for run in range(args.runs):
            reps, vocab, seconds = fit_all(corpus, jieba)
            runs.append(seconds)
            progress(f"fit run {run + 1}/{args.runs}: " + ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items()))
        per_10k = 10_000 / len(corpus)
        cost = {}
        for name in reps:
            fit, tr = (statistics.median(r[f"{name}_{p}"] for r in runs) * per_10k for p in ("fit", "transform"))
            cost[name] = {"fit_s_per_10k": fit, "transform_s_per_10k": tr, "total_s_per_10k": fit + tr,
                          "vocab_char": vocab[name]["char"], "vocab_word": vocab[name]["word"]}
        occupation, skills = tasks(jobs, reps, rng)
    results = {"command": "python -m benchmarks.bench_cn_text " + " ".join(sys.argv[1:] if argv is None else argv),
               "code": code_version(), "cpu": cpu_name(), "threads": args.threads, "corpus": len(corpus),
               "mean_chars": float(jobs["title_text"].str.len().mean()), "jieba_init_s": init,
               "jieba": f"jieba {jieba.__version__}" if jieba else "jieba not installed: skipped",
               "cost": cost, "runs": runs, "occupation": occupation, "skills": skills}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cn_text.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "cn_text.md").write_text(report(results), encoding="utf-8")
    progress(f"wrote {out / 'cn_text.md'} and {out / 'cn_text.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
