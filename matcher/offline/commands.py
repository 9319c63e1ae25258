"""`matcher models`: the model registry from the command line (list, show, promote a challenger, roll back)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from matcher.errors import MatcherError

__all__ = ["add_registry_commands"]


def add_registry_commands(sub: Any) -> None:
    p = sub.add_parser("models", help="the model registry: list, show, promote a challenger, roll back")
    p.add_argument("action", choices=["list", "show", "promote", "rollback"])
    p.add_argument("version", nargs="?", help="show / promote: the version (show: default the champion)")
    p.add_argument("--model", required=True, help="model directory")
    p.set_defaults(func=_cmd_models)


def _cmd_models(args: argparse.Namespace) -> int:
    from models.registry import current_version, list_versions, promote, rollback, version_dir

    root = Path(args.model)
    if args.action == "promote":
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
