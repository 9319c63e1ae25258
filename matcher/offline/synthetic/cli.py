"""The command line: `python -m matcher.offline.synthetic --seekers N --jobs M --seed S --out DIR`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from .generator import generate


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m matcher.offline.synthetic --seekers 10000 --jobs 2000 --seed 0 --out DIR`: generate, write and
    report what was written and how long it took."""
    parser = argparse.ArgumentParser(prog="python -m matcher.offline.synthetic",
                                     description="Write a synthetic FORMAT.md folder (seekers, jobs, "
                                                 "events).")
    parser.add_argument("--seekers", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--events-per-seeker", type=float, default=3.0,
                        help="mean number of jobs each seeker interacts with; 0 = profiles only")
    parser.add_argument("--start", default="2026-01-01", help="first day of the posting/event window (UTC)")
    parser.add_argument("--days", type=int, default=60, help="length of the window")
    parser.add_argument("--employer-selectivity", type=float, default=0.0,
                        help="employers' own preference for experience/education at interview and hire (0: none)")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    data = generate(args.seekers, args.jobs, seed=args.seed, events_per_seeker=args.events_per_seeker,
                    start=args.start, days=args.days, employer_selectivity=args.employer_selectivity)
    generated = time.perf_counter()
    paths = data.write(args.out)
    done = time.perf_counter()
    for path, frame in zip(paths.values(), (data.seekers, data.jobs, data.events), strict=True):
        print(f"wrote {path} ({len(frame):,} rows, {path.stat().st_size / 2**20:.1f} MiB)")
    print(f"generated in {generated - began:.1f} s, written in {done - generated:.1f} s")
    return 0
