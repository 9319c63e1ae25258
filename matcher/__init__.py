"""talent-match engine: data folders, retrieval, ranking, batch matching, evaluation, CLI."""

from matcher.errors import DataValidationError, MatcherError, ModelError, NotFoundError

__all__ = ["MatcherError", "DataValidationError", "ModelError", "NotFoundError"]
__version__ = "0.1.0"
