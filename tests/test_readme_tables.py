"""Issue 16: the README's result tables are written from the committed results files and cannot drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import readme_tables


def test_the_readme_tables_are_the_committed_results() -> None:
    readme = (readme_tables.ROOT / "README.md").read_text(encoding="utf-8")
    names = {m["name"] for m in readme_tables._BLOCK.finditer(readme)}
    assert names == set(readme_tables.BLOCKS), "every generator has its block in the README"
    _, changed = readme_tables.render(readme)
    assert changed == [], f"run `python -m benchmarks.readme_tables`: {changed} differ from the results files"


def test_check_fails_on_a_hand_edited_number_and_the_rewrite_mends_it(tmp_path: Path) -> None:
    readme = (readme_tables.ROOT / "README.md").read_text(encoding="utf-8")
    engine = json.loads((readme_tables.ROOT / "docs/results/forward-us/metrics.json").read_text(encoding="utf-8"))
    cell = f"| **{engine['results']['engine']['ndcg@10']:.4f}** |"  # the forward table's engine NDCG@10
    assert cell in readme
    copy = tmp_path / "README.md"
    copy.write_text(readme.replace(cell, "| **0.9999** |", 1), encoding="utf-8")
    assert readme_tables.main(["--check", "--readme", str(copy)]) == 1
    assert readme_tables.main(["--readme", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == readme


def test_a_block_without_a_generator_is_an_error(tmp_path: Path) -> None:
    copy = tmp_path / "README.md"
    copy.write_text("<!-- table: nonsense -->\n<!-- /table -->\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="nonsense"):
        readme_tables.main(["--check", "--readme", str(copy)])
