"""One error root for the whole engine; the CLI and (later) the gRPC layer map these to exit/status codes."""

from __future__ import annotations

__all__ = ["MatcherError", "DataValidationError", "ModelError", "NotFoundError"]


class MatcherError(Exception):
    """Root of every error the engine raises on purpose."""


class DataValidationError(MatcherError):
    """A data file broke the interchange format. Names file, row (1-based, header = row 1) and column."""

    def __init__(self, file: str, row: int | None, column: str | None, problem: str) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.problem = problem
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")


class ModelError(MatcherError):
    """A model directory is missing, incomplete or inconsistent with the data."""


class NotFoundError(MatcherError):
    """An id that the caller named is not in the catalogue."""
