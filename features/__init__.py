"""Feature extraction: parsing of messy posting strings, places, text vectors, (seeker, job) pair features."""

from features.pairs import FEATURE_NAMES, pair_features

__all__ = ["FEATURE_NAMES", "pair_features"]
