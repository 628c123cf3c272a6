"""Recommendation ranking: temporal split, metrics, baselines, candidates and evaluation."""
