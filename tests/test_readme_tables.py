"""Issue 16: the README's result tables are written from the committed results files and cannot drift."""

from __future__ import annotations

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
    assert "| **0.2527** |" in readme
    copy = tmp_path / "README.md"
    copy.write_text(readme.replace("| **0.2527** |", "| **0.2700** |", 1), encoding="utf-8")
    assert readme_tables.main(["--check", "--readme", str(copy)]) == 1
    assert readme_tables.main(["--readme", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == readme


def test_a_block_without_a_generator_is_an_error(tmp_path: Path) -> None:
    copy = tmp_path / "README.md"
    copy.write_text("<!-- table: nonsense -->\n<!-- /table -->\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="nonsense"):
        readme_tables.main(["--check", "--readme", str(copy)])
