"""Daily behaviour: who visits, what the home page shows them, what they play and finish.

The hidden model, per active member-day (one visit):

* the home page shows rows x positions of titles; each slot's title comes from a
  logging policy that mixes popularity (boosted for fresh releases) with a uniform
  draw over available titles, and the artwork variant is uniform over the title's
  variants, so ``propensity = pi_day(title) / n_variants(title)`` exactly;
* ``P(play) = sigmoid(PLAY_INTERCEPT + TASTE_EFFECT * match + quality + appeal
  + ROW_EFFECT * row + POSITION_EFFECT * position + FRESH_EFFECT * freshness)`` where
  ``match`` is the member's mean taste weight over the title's genres and ``appeal``
  the taste-weighted artwork appeal (see :class:`~reelops.world.catalog.Catalog`);
* members also find titles by search: a genre from their taste, then a title of that
  genre by quality and popularity;
* completion is Beta-distributed around ``sigmoid(COMPLETION_INTERCEPT +
  COMPLETION_TASTE * match + COMPLETION_QUALITY * quality)``; a play from a
  misleading artwork variant is abandoned early with probability ``ABANDON_PROB``
  (its completion scaled by a uniform factor up to ``ABANDON_MAX_SHARE``), drawn from
  a stream of its own so that nothing else in the world changes with it;
* a member plays a title at most once a day; a play of a title seen on an earlier
  day is kept as a rewatch with probability ``rewatch_prob``. A play dropped this
  way leaves its impression unplayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from reelops.schema import DEVICES
from reelops.world.catalog import GENRE_LIST, Catalog, theme_fit_matrix
from reelops.world.frames import lookup, microseconds, padded_ids, raw_frame
from reelops.world.members import Members
from reelops.world.sampling import row_categorical, sample_weighted

PLAY_INTERCEPT = -2.4
TASTE_EFFECT = 6.0
QUALITY_EFFECT = 1.0
ROW_EFFECT = -0.25
POSITION_EFFECT = -0.08
FRESH_EFFECT = 0.8
FRESH_DAYS = 10.0  # e-folding time of a release's freshness
FRESH_POPULARITY = 4.0  # a brand-new release is shown up to 5x as often
COMPLETION_INTERCEPT = -0.8
COMPLETION_TASTE = 5.0
COMPLETION_QUALITY = 0.8
COMPLETION_CONCENTRATION = 2.0
ABANDON_PROB = 0.7  # of a play started from misleading artwork
ABANDON_MIN_SHARE, ABANDON_MAX_SHARE = 0.03, 0.3  # completion kept by an abandoned play
WEEKDAY_ACTIVITY = (1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.25)  # Monday first
DEVICE_PREFERENCE = {"tv": 1.5, "mobile": 1.0, "tablet": 0.7, "web": 0.6}
LAST_VISIT_S = 23.5 * 3600  # a visit's events all fall within its day


@dataclass(frozen=True, eq=False)
class Behaviour:
    """Impressions and viewing events, plus view arrays aligned with ``viewing_events`` rows."""

    impressions: pd.DataFrame
    viewing_events: pd.DataFrame
    view_member: np.ndarray
    view_title: np.ndarray
    view_day: np.ndarray
    view_device: np.ndarray  # index into DEVICES
    view_ts: np.ndarray  # datetime64[us]


def freshness(release_day: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """1 on release day, decaying with FRESH_DAYS; 0 before release."""
    age = np.asarray(day) - release_day
    return np.where(age >= 0, np.exp(-np.maximum(age, 0) / FRESH_DAYS), 0.0)


def taste_match(taste: np.ndarray, genres: np.ndarray, n_genres: np.ndarray, member, title):
    """Mean taste weight of each member over the genres of the paired title."""
    # A zero column at the end lets the -1 padding of ``genres`` index a weight of 0.
    padded = np.hstack([taste, np.zeros((len(taste), 1))])
    g = genres[title]
    total = padded[member, g[:, 0]] + padded[member, g[:, 1]] + padded[member, g[:, 2]]
    return total / n_genres[title]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _visit_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time of day of each visit: mostly evenings, some daytime, a few at night."""
    kind = rng.choice(3, size=n, p=[0.6, 0.34, 0.06])
    evening = rng.normal(20.5, 1.6, n)
    daytime = rng.uniform(7.0, 23.0, n)
    night = rng.uniform(0.0, 3.0, n)
    hours = np.choose(kind, [evening, daytime, night])
    return np.clip(hours * 3600.0, 0.0, LAST_VISIT_S)


def _within_group(group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable order that sorts ``group``, and each group's slice bounds in that order."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    return order, bounds


@dataclass(eq=False)
class _Visits:
    """One visit per active member-day, ordered by day."""

    day: np.ndarray
    member: np.ndarray
    seconds: np.ndarray  # time of day the visit starts


@dataclass(eq=False)
class _Slots:
    """Home-page slots of every visit, ordered by day."""

    visit: np.ndarray
    day: np.ndarray
    member: np.ndarray
    row: np.ndarray
    position: np.ndarray
    slot: np.ndarray  # row-major index within the visit's page
    title: np.ndarray
    variant: np.ndarray
    propensity: np.ndarray
    seconds: np.ndarray  # time of day the slot was shown


def _visits(rng: np.random.Generator, activity: np.ndarray, start: date, days: int) -> _Visits:
    weekday = (start.weekday() + np.arange(days)) % 7
    p_active = np.clip(np.outer(np.array(WEEKDAY_ACTIVITY)[weekday], activity), 0, 0.97)
    day, member = np.nonzero(rng.random((days, len(activity))) < p_active)
    day, member = day.astype(np.int32), member.astype(np.int32)
    return _Visits(day, member, _visit_seconds(rng, len(day)))


def _home_pages(
    rng: np.random.Generator,
    catalog: Catalog,
    visits: _Visits,
    days: int,
    max_rows: int,
    positions_per_row: int,
    explore_share: float,
) -> _Slots:
    """Fill every visit's page from the logging policy, recording exact propensities."""
    n_slots = (1 + rng.binomial(max_rows - 1, 0.5, len(visits.day))) * positions_per_row
    # int32 indices: there are millions of slots in a large world.
    visit = np.repeat(np.arange(len(visits.day), dtype=np.int32), n_slots)
    slot = (np.arange(len(visit)) - np.repeat(np.cumsum(n_slots) - n_slots, n_slots)).astype(
        np.int32
    )
    row, position = np.divmod(slot, np.int32(positions_per_row))
    day = visits.day[visit]

    title = np.empty(len(visit), dtype=np.int32)
    pi_title = np.empty(len(visit))
    day_bounds = np.searchsorted(day, np.arange(days + 1))
    base = np.exp(catalog.popularity)
    for d in range(days):
        lo, hi = day_bounds[d], day_bounds[d + 1]
        available = catalog.release_day <= d
        shown = base * (1.0 + FRESH_POPULARITY * freshness(catalog.release_day, d))
        shown = np.where(available, shown, 0.0)
        pi = (1 - explore_share) * shown / shown.sum() + explore_share * available / available.sum()
        title[lo:hi] = sample_weighted(rng, pi, hi - lo)
        pi_title[lo:hi] = pi[title[lo:hi]]
    n_variants = catalog.n_variants[title]
    variant = catalog.variant_start[title] + (rng.random(len(visit)) * n_variants).astype(np.int32)
    # Scrolling: a row every few seconds, a tile a fraction of a second.
    seconds = visits.seconds[visit] + row * 5.0 + position * 0.6 + rng.uniform(0, 0.5, len(visit))
    return _Slots(
        visit=visit,
        day=day,
        member=visits.member[visit],
        row=row,
        position=position,
        slot=slot,
        title=title,
        variant=variant,
        propensity=pi_title / n_variants,
        seconds=seconds,
    )


def play_logit(
    members: Members,
    catalog: Catalog,
    member: np.ndarray,
    title: np.ndarray,
    variant: np.ndarray,
    row: np.ndarray,
    position: np.ndarray,
    day: np.ndarray,
) -> np.ndarray:
    """The hidden play logit of each (member, title, variant, row, position, day) slot."""
    match = taste_match(members.taste, catalog.genres, catalog.n_genres, member, title)
    theme_pull = catalog.artwork_effect * members.taste @ theme_fit_matrix()
    appeal = (
        catalog.variant_base_appeal[variant] + theme_pull[member, catalog.variant_theme[variant]]
    )
    return (
        PLAY_INTERCEPT
        + TASTE_EFFECT * match
        + QUALITY_EFFECT * catalog.quality[title]
        + appeal
        + ROW_EFFECT * row
        + POSITION_EFFECT * position
        + FRESH_EFFECT * freshness(catalog.release_day[title], day)
    )


def completion_mean(
    members: Members, catalog: Catalog, member: np.ndarray, title: np.ndarray
) -> np.ndarray:
    """Mean of the Beta completion of a play (before any abandonment)."""
    match = taste_match(members.taste, catalog.genres, catalog.n_genres, member, title)
    return _sigmoid(
        COMPLETION_INTERCEPT
        + COMPLETION_TASTE * match
        + COMPLETION_QUALITY * catalog.quality[title]
    )


def _plays(
    rng: np.random.Generator, members: Members, catalog: Catalog, slots: _Slots
) -> np.ndarray:
    """Whether each slot is played, from the hidden play model."""
    logit = play_logit(
        members,
        catalog,
        slots.member,
        slots.title,
        slots.variant,
        slots.row,
        slots.position,
        slots.day,
    )
    return rng.random(len(logit)) < _sigmoid(logit)


def _searches(
    rng: np.random.Generator,
    members: Members,
    catalog: Catalog,
    visits: _Visits,
    days: int,
    organic_rate: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Views found by search during each visit: (member, title, day, seconds)."""
    n_titles, n_genres = len(catalog.quality), len(GENRE_LIST)
    visit = np.repeat(np.arange(len(visits.day)), rng.poisson(organic_rate, len(visits.day)))
    member, day = visits.member[visit], visits.day[visit]
    genre = row_categorical(rng, members.taste[member])
    title = np.empty(len(visit), dtype=np.int64)
    # Column n_genres absorbs the -1 padding of catalog.genres.
    has_genre = np.zeros((n_titles, n_genres + 1), dtype=bool)
    has_genre[np.arange(n_titles)[:, None], catalog.genres] = True
    order, bounds = _within_group(day * n_genres + genre, days * n_genres)
    searched = np.exp(catalog.quality + 0.5 * catalog.popularity)
    for d in range(days):
        fresh = 1.0 + FRESH_POPULARITY * freshness(catalog.release_day, d)
        weight = np.where(catalog.release_day <= d, searched * fresh, 0.0)
        for g in range(n_genres):
            rows = order[bounds[d * n_genres + g] : bounds[d * n_genres + g + 1]]
            if not len(rows):
                continue
            in_genre = np.where(has_genre[:, g], weight, 0.0)
            # No title of this genre out yet: the search settles for anything available.
            title[rows] = sample_weighted(rng, in_genre if in_genre.any() else weight, len(rows))
    seconds = visits.seconds[visit] + rng.uniform(30.0, 1200.0, len(visit))
    return member, title, day, seconds


def _first_plays(
    rng: np.random.Generator,
    member: np.ndarray,
    title: np.ndarray,
    day: np.ndarray,
    seconds: np.ndarray,
    rewatch_prob: float,
) -> np.ndarray:
    """Which candidate views happen: one per member, title and day; rewatches rarely."""
    order = np.lexsort((seconds, day, title, member))
    m, t, d = member[order], title[order], day[order]
    same_pair = np.zeros(len(order), dtype=bool)
    same_pair[1:] = (m[1:] == m[:-1]) & (t[1:] == t[:-1])
    same_day = same_pair.copy()
    same_day[1:] &= d[1:] == d[:-1]
    rewatch = rng.random(len(order)) < rewatch_prob
    keep = np.empty(len(order), dtype=bool)
    keep[order] = ~same_pair | (~same_day & rewatch)
    return keep


def _abandon(
    rng: np.random.Generator | None,
    catalog: Catalog,
    slots: _Slots,
    slot_of_view: np.ndarray,
    completion: np.ndarray,
) -> np.ndarray:
    """Completion after early abandonment of the plays started from misleading artwork."""
    rng = rng if rng is not None else np.random.default_rng(0)
    from_slot = slot_of_view >= 0
    misleading = np.zeros(len(completion), dtype=bool)
    misleading[from_slot] = catalog.variant_misleading[slots.variant[slot_of_view[from_slot]]]
    # One draw per view whatever it is, so the stream does not depend on which are misleading.
    abandons = misleading & (rng.random(len(completion)) < ABANDON_PROB)
    kept = rng.uniform(ABANDON_MIN_SHARE, ABANDON_MAX_SHARE, len(completion))
    return np.where(abandons, completion * kept, completion)


def simulate_behaviour(
    rng: np.random.Generator,
    members: Members,
    catalog: Catalog,
    *,
    start: date,
    days: int,
    max_rows: int,
    positions_per_row: int,
    explore_share: float,
    organic_rate: float,
    rewatch_prob: float,
    artwork_rng: np.random.Generator | None = None,
) -> Behaviour:
    """Simulate every day's visits, impressions and views.

    Args:
        rng: Source of randomness.
        members: The member base.
        catalog: The titles and artwork.
        start: First day.
        days: Number of days.
        max_rows: Most rows on a home page (a visit shows 1..max_rows).
        positions_per_row: Titles per row.
        explore_share: Share of the logging policy that is uniform over titles.
        organic_rate: Mean number of search views per visit.
        rewatch_prob: Chance that a play of a title seen on an earlier day happens.
        artwork_rng: Source of the abandonment of plays from misleading artwork; a
            generator of its own (None: a fixed seed) so no other draw depends on it.

    Returns:
        The impressions and viewing events.
    """
    visits = _visits(rng, members.activity, start, days)
    slots = _home_pages(rng, catalog, visits, days, max_rows, positions_per_row, explore_share)
    played = _plays(rng, members, catalog, slots)
    search_member, search_title, search_day, search_s = _searches(
        rng, members, catalog, visits, days, organic_rate
    )

    # Candidate views: played slots (started a few seconds later), then searches.
    from_slot = np.flatnonzero(played)
    member = np.concatenate([slots.member[from_slot], search_member])
    title = np.concatenate([slots.title[from_slot], search_title])
    day = np.concatenate([slots.day[from_slot], search_day])
    lag = rng.uniform(3.0, 45.0, len(from_slot))
    seconds = np.concatenate([slots.seconds[from_slot] + lag, search_s])
    slot_of_view = np.concatenate([from_slot, np.full(len(search_member), -1)])
    keep = _first_plays(rng, member, title, day, seconds, rewatch_prob)
    played[slot_of_view[(slot_of_view >= 0) & ~keep]] = False
    member, title, day = member[keep], title[keep], day[keep]
    seconds, slot_of_view = seconds[keep], slot_of_view[keep]

    mean = completion_mean(members, catalog, member, title)
    completion = rng.beta(mean * COMPLETION_CONCENTRATION, (1 - mean) * COMPLETION_CONCENTRATION)
    completion = _abandon(artwork_rng, catalog, slots, slot_of_view, completion)
    # Near the end people either finish or stop at the credits: snap to 1.
    completion = np.where(completion > 0.97, 1.0, np.maximum(completion, 0.01)).round(4)
    watched_s = np.round(completion * catalog.runtime_min[title] * 60).astype(np.int64)
    preference = members.devices[member] * np.array([DEVICE_PREFERENCE[d] for d in DEVICES])
    device = row_categorical(rng, preference / preference.sum(axis=1, keepdims=True))

    day_start = np.datetime64(start, "us")
    member_ids = pa.array(members.table["member_id"])
    title_ids = pa.array(catalog.titles["title_id"])
    ts = microseconds(day_start, day, seconds)
    order = np.lexsort((title, member, ts))
    viewing_events = raw_frame(
        "viewing_events",
        {
            "event_id": padded_ids("e", np.arange(len(order)), 9),
            "member_id": lookup(member[order], member_ids),
            "title_id": lookup(title[order], title_ids),
            "ts": ts[order],
            "device": lookup(device[order], DEVICES),
            "seconds_watched": watched_s[order],
            "completion": completion[order],
            "rating": pa.nulls(len(order), pa.float64()),
        },
    )

    slot_completion = np.zeros(len(slots.visit))
    from_slot = slot_of_view >= 0
    slot_completion[slot_of_view[from_slot]] = completion[from_slot]
    slot_ts = microseconds(day_start, slots.day, slots.seconds)
    slot_order = np.lexsort((slots.slot, slots.member, slot_ts))
    impressions = raw_frame(
        "impressions",
        {
            "impression_id": padded_ids("i", np.arange(len(slot_order)), 10),
            "member_id": lookup(slots.member[slot_order], member_ids),
            "title_id": lookup(slots.title[slot_order], title_ids),
            "variant_id": lookup(
                slots.variant[slot_order], pa.array(catalog.artwork_variants["variant_id"])
            ),
            "ts": slot_ts[slot_order],
            "row_index": slots.row[slot_order],
            "position": slots.position[slot_order],
            "propensity": slots.propensity[slot_order],
            "played": played[slot_order],
            "completion": slot_completion[slot_order],
        },
    )
    return Behaviour(
        impressions=impressions,
        viewing_events=viewing_events,
        view_member=member[order],
        view_title=title[order],
        view_day=day[order],
        view_device=device[order],
        view_ts=ts[order],
    )
