"""One error root for the whole engine; the CLI maps these to exit codes, matcher.service.errors to gRPC codes."""

from __future__ import annotations

__all__ = ["MatcherError", "DataValidationError", "ModelError", "NotFoundError", "InvalidRequestError",
           "LimitExceededError", "UnavailableError", "DeadlineExceededError", "missing_extra"]


class MatcherError(Exception):
    """Root of every error the engine raises on purpose."""

    @property
    def public_message(self) -> str:
        """What may be shown to a remote caller: no values from the data, no paths, no internals."""
        return str(self)


_NO_VALUE = object()


class DataValidationError(MatcherError):
    """A data file broke the interchange format. Names file, row (1-based, header = row 1) and column.

    The offending cell travels apart from the problem (`value`): the message printed locally quotes it, the public
    message a remote caller sees never does (a cell may hold personal data, an id a name)."""

    def __init__(self, file: str, row: int | None, column: str | None, problem: str,
                 value: object = _NO_VALUE) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.problem = problem
        self.value = value
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}" + ("" if value is _NO_VALUE else f", got {value!r}"))

    def for_record(self, index: int) -> DataValidationError:
        """The same error for record `index` (0-based) of a request, when it was found validating that record
        alone (one record = data row 2)."""
        return DataValidationError(self.file, index + 2, self.column, self.problem, self.value)

    @property
    def public_message(self) -> str:
        """`jobs[3].salary_min: expected a number` for records sent over gRPC (index 0-based, as in the request)."""
        where = self.file + (f"[{self.row - 2}]" if self.row is not None else "")
        where += f".{self.column}" if self.column is not None else ""
        return f"{where}: {self.problem}"


class ModelError(MatcherError):
    """A model directory is missing, incomplete or inconsistent with the data."""

    @property
    def public_message(self) -> str:
        return "the model could not be loaded; the server log has the details"


class NotFoundError(MatcherError):
    """An id that the caller named is not in the catalogue."""


class InvalidRequestError(MatcherError):
    """A request that is malformed regardless of the data (k out of range, both or neither of two fields...)."""


class LimitExceededError(MatcherError):
    """A request or the server's queue is over a configured bound."""


class UnavailableError(MatcherError):
    """The server is starting, stopping or otherwise cannot serve right now; retrying later may work."""


class DeadlineExceededError(MatcherError):
    """The caller's deadline passed before the work was reached; the work was dropped."""


def missing_extra(exc: ImportError, extra: str, what: str) -> MatcherError:
    """The error for an optional layer that is not installed (`pip install 'talent-match[extra]'`)."""
    return MatcherError(f"{what} needs the {extra!r} extra ({exc.name or exc} is not installed): "
                        f"pip install 'talent-match[{extra}]'")
