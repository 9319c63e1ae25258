"""Ranking model (LightGBM LambdaRank), model registry, metrics, baselines and reports."""

from models.ranker import LambdaRanker
from models.registry import ModelBundle, load_model, save_model

__all__ = ["LambdaRanker", "ModelBundle", "load_model", "save_model"]
