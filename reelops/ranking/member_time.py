"""Cross features of the member's own time: history size, what was popular then, release gap.

Members of a per-member hold-out are last active at different times (on MovieLens
over seven months), so "popular" means popular when *this* member was last active.
"""

from __future__ import annotations

import numpy as np

from reelops.ranking.candidates import CandidateGenerator

MEMBER_WINDOW_DAYS = 30.0  # x_popular_member_window: views in the month before the member's last


def member_time_columns(
    generator: CandidateGenerator, rows: np.ndarray, member_pos: np.ndarray, cols: np.ndarray
) -> dict[str, np.ndarray]:
    """Features of the member's own time: history size, what was popular then, release gap.

    ``x_history_titles``: titles the member watched; ``x_popular_member_window``: members
    who watched the title in the :data:`MEMBER_WINDOW_DAYS` before the member's last view
    (what was popular when this member was last active: members of a per-member hold-out
    are active at different times); ``x_release_gap``: the title's release age minus the
    mean release age of the member's recent titles (fans of new releases).

    Args:
        generator: The fitted sources.
        rows: History row of each member asked for (-1 = no history).
        member_pos: Per candidate, the index into ``rows``.
        cols: Per candidate, the title column.
    """
    matrix, cells = generator.data.matrix, generator.data.cells
    known = rows >= 0
    n_titles = np.zeros(len(rows))
    n_titles[known] = np.diff(matrix.indptr)[rows[known]]
    last = cells.groupby("row")["ts"].max().reindex(range(matrix.shape[0]))
    last_ts = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[ns]")
    last_ts[known] = last.to_numpy(dtype="datetime64[ns]")[rows[known]]
    # Cells sorted by (title, time): a title's views in a window are one searchsorted range.
    order = np.lexsort((cells["ts"].to_numpy(), cells["col"].to_numpy()))
    sorted_col = cells["col"].to_numpy()[order].astype(np.int64)
    sorted_ts = cells["ts"].to_numpy(dtype="datetime64[ns]")[order].astype(np.int64)
    span = np.int64(sorted_ts.max(initial=0) - sorted_ts.min(initial=0) + 1)
    base = sorted_ts.min(initial=0)
    keys = sorted_col * span + (sorted_ts - base)
    end = last_ts[member_pos].astype(np.int64)
    window = np.int64(MEMBER_WINDOW_DAYS * 86_400e9)
    valid = ~np.isnat(last_ts[member_pos])
    hi = np.searchsorted(keys, cols * span + np.clip(end - base, 0, span - 1), side="right")
    lo = np.searchsorted(keys, cols * span + np.clip(end - window - base, 0, span - 1))
    popular = np.where(valid, hi - lo, 0).astype(np.float64)
    release = np.nan_to_num(generator.release_days, nan=0.0)
    recent = generator.recent
    counts = np.asarray(recent.sum(axis=1)).ravel()
    mean_release = np.asarray(recent @ release).ravel() / np.maximum(counts, 1.0)
    member_release = np.full(len(rows), np.nan)
    member_release[known] = mean_release[rows[known]]
    return {
        "x_history_titles": n_titles[member_pos],
        "x_popular_member_window": popular,
        "x_release_gap": release[cols] - member_release[member_pos],
    }


__all__ = ["MEMBER_WINDOW_DAYS", "member_time_columns"]
