"""`matcher models`: the model registry from the command line (list, show, compare two versions, promote a
challenger, roll back), and the comparison `matcher train --promote-margin` decides by."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError

__all__ = ["add_registry_commands", "compare_versions"]


def add_registry_commands(sub: Any) -> None:
    p = sub.add_parser("models", help="the model registry: list, show, compare, promote a challenger, roll back")
    p.add_argument("action", choices=["list", "show", "compare", "promote", "rollback"])
    p.add_argument("versions", nargs="*", metavar="version",
                   help="show / promote: one version (show: default the champion); compare: A B, or B against "
                        "the champion (default B: the newest version)")
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--data", help="compare: the FORMAT.md folder to compare on")
    p.add_argument("--report", help="compare: report directory (default MODEL/versions/B/comparison)")
    p.add_argument("--test-start", help="compare: first moment of the window (default: after both models' "
                                        "training data)")
    p.add_argument("--candidates", type=int, default=200, help="compare: retrieval depth before re-ranking")
    p.set_defaults(func=_cmd_models)


def compare_versions(root: Path, a: str, b: str, data: Any, report: Path | None = None, *,
                     test_start: str | None = None, n_candidates: int = 200) -> dict[str, Any]:
    """Versions a and b of the registry at `root` side by side on `data` (matcher.offline.evaluation with a
    challenger); the report goes to `report`, else into b's version directory."""
    from matcher import api
    from models.registry import version_dir

    champion, challenger = (api.load(version_dir(root, v)) for v in (a, b))
    out = report or version_dir(root, b) / "comparison"
    return api.evaluate(champion, data, out, challenger=challenger, test_start=test_start,
                        n_candidates=n_candidates)


def print_comparison(result: dict[str, Any]) -> None:
    c = result["comparison"]
    print(f"{'method':<44}{'NDCG@10':>9}{'Recall@10':>11}{'Recall@100':>12}")
    for name, m in result["results"].items():
        print(f"{name:<44}{m['ndcg@10']:>9.4f}{m['recall@10']:>11.4f}{m['recall@100']:>12.4f}")
    print(f"B - A: {c['difference']:+.4f} NDCG@10, 95% interval [{c['ci_low']:+.4f}, {c['ci_high']:+.4f}], "
          f"p {c['p_value']:.3g}; B better on {int(c['wins'])}, worse on {int(c['losses'])}, equal on "
          f"{int(c['ties'])} of {int(c['queries'])} queries")
    print(f"report: {result['report']}")


def _cmd_models(args: argparse.Namespace) -> int:
    from models.registry import current_version, list_versions, promote, rollback, version_dir

    root = Path(args.model)
    versions = list(args.versions)
    if len(versions) > (2 if args.action == "compare" else 1 if args.action in ("show", "promote") else 0):
        raise MatcherError(f"models {args.action}: too many versions ({' '.join(versions)})")
    args.version = versions[0] if versions else None
    if args.action == "compare":
        if not args.data:
            raise MatcherError("models compare: --data is required (the folder to compare the models on)")
        champion, newest = current_version(root), (list_versions(root) or [""])[-1]
        if len(versions) < 2 and champion is None:
            raise MatcherError("models compare: no champion to compare against; name both versions")
        a, b = versions if len(versions) == 2 else (champion or "", versions[0] if versions else newest)
        if a == b:
            raise MatcherError(f"models compare: A and B are both {a}; name the challenger")
        from matcher import api

        print_comparison(compare_versions(root, a, b, api.load_data(args.data),
                                          Path(args.report) if args.report else None,
                                          test_start=args.test_start, n_candidates=args.candidates))
    elif args.action == "promote":
        if not args.version:
            raise MatcherError("models promote: name the version to promote (see `matcher models list`)")
        version_dir(root, args.version)
        promote(root, args.version)
        print(f"champion: {args.version}")
    elif args.action == "rollback":
        print(f"champion: {rollback(root)} (rolled back)")
    elif args.action == "show":
        meta = json.loads((version_dir(root, args.version or current_version(root) or "")
                           / "meta.json").read_text(encoding="utf-8"))
        print(json.dumps({k: meta.get(k) for k in ("version", "kind", "created_at", "best_iteration",
                                                    "data_dir", "training")}, indent=2, default=str))
    else:
        champion = current_version(root)
        print(f"{'':2}{'version':<28}{'kind':<38}{'valid NDCG@10':>14}  created")
        for version in list_versions(root):
            meta = json.loads((root / "versions" / version / "meta.json").read_text(encoding="utf-8"))
            valid = meta.get("training", {}).get("valid_ndcg@10")
            print(f"{'*' if version == champion else ' ':2}{version:<28}{meta.get('kind', 'learned'):<38}"
                  f"{'-' if valid is None else f'{valid:.4f}':>14}  {meta.get('created_at', '')[:19]}")
    return 0
