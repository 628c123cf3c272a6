"""The training and scoring rows of one hold-out, its sources tuned on its validation split.

:func:`holdout_rows` builds, for the per-member or the global hold-out, the rows the
search (``inner_*``), the judged model (``outer_*``) and the refit (``refit_train``)
learn from and are scored on, after choosing EASE's penalty, ALS's parameters and the
candidate quotas and total on the hold-out's validation split; and the candidate recall
of every source beside EASE's own top N.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reelops.ranking.baselines import EASE
from reelops.ranking.candidates import candidate_recall, recall_by_source
from reelops.ranking.holdout_eval import validation_sources, with_sources
from reelops.ranking.protocol import (
    member_training_rows,
    scoring_rows,
    split_generator,
    splits,
    training_rows,
)
from reelops.ranking.quota_search import ValidationRecall, search_quotas


def holdout_order(ev) -> list[str]:
    """The judged hold-out first, then the other one, reported beside it."""
    other = "global" if ev.holdout == "per_member" else "per_member"
    return [ev.holdout, other]


def holdout_rows(settings, spec, data, holdout: str, tr, ev) -> dict[str, Any]:
    """Validation, evaluation and refit rows of one hold-out, sources chosen on validation."""
    outer, inner = splits(data, ev, tr, holdout)
    sources = validation_sources(data, inner, ev)
    if tr.candidate_search.totals:
        sources["candidate_search"] = choose_candidates(data, inner, with_sources(tr, sources))
    tuned = with_sources(tr, sources)
    service = spec.feature_service
    if holdout == "per_member":
        frames = {
            "inner_train": member_training_rows(settings, data, inner.train, tuned, ev, service),
            "outer_train": member_training_rows(settings, data, outer.train, tuned, ev, service),
            "refit_train": member_training_rows(
                settings, data, data.interactions, tuned, ev, service
            ),
        }
    else:
        end = pd.Timestamp(data.interactions["ts"].max()) + pd.Timedelta(seconds=1)
        frames = {
            "inner_train": training_rows(
                settings, data, pd.Timestamp(inner.protocol.cutoff), tuned, service
            ),
            "outer_train": training_rows(
                settings, data, pd.Timestamp(outer.protocol.cutoff), tuned, service
            ),
            "refit_train": training_rows(settings, data, end, tuned, service),
        }
    frames["inner_eval"] = scoring_rows(settings, data, inner, tuned, service)
    frames["outer_eval"] = scoring_rows(settings, data, outer, tuned, service)
    size = tuned.candidate_config().total
    recall = recall_by_source(frames["outer_eval"], outer.test)
    recall[f"ease_top{size}"] = top_n_recall(outer.train, outer.test, data.titles, sources, size)
    return {
        "frames": frames,
        "sources": sources,
        "protocol": outer.protocol.to_dict(),
        "validation_protocol": inner.protocol.to_dict(),
        "candidate_recall": recall,
    }


def choose_candidates(data, inner, tr) -> dict[str, Any]:
    """Quotas and total chosen on the validation split ``inner`` (:mod:`quota_search`)."""
    search = tr.candidate_search
    config = tr.candidate_config()
    depth = max(*search.totals, config.total)
    generator = split_generator(data, inner, tr)
    recall = ValidationRecall(generator, inner.test, depth, search.max_members, search.seed)
    return search_quotas(recall, config.quotas, config.total, search)


def top_n_recall(train, test, titles, sources: dict[str, Any], n: int) -> float:
    """Recall of the held-out titles in EASE's own top ``n`` unwatched titles per member."""
    ease = EASE(sources["ease_l2"]).fit(train, titles)
    recs = ease.recommend(np.sort(test["member_key"].unique()), k=n)
    return candidate_recall(recs, test)


__all__ = ["choose_candidates", "holdout_order", "holdout_rows", "top_n_recall"]
