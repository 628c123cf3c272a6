"""Generate the synthetic streaming world: raw tables plus the hidden truth behind them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from reelops.abr.traces import Trace
from reelops.abr.video import reference_video
from reelops.schema import RAW_TABLES
from reelops.world.artwork import ArtworkTruth
from reelops.world.behaviour import simulate_behaviour
from reelops.world.catalog import Catalog, draw_catalog
from reelops.world.frames import to_arrow
from reelops.world.members import COUNTRY_LIST, Members, draw_members
from reelops.world.network import Network, network_quality
from reelops.world.playback import simulate_playback

_SHARES = (
    "active_rate",
    "explore_share",
    "new_release_share",
    "rewatch_prob",
    "rate_based_share",
    "misleading_share",
)
_COUNTS = ("n_members", "n_titles", "days", "max_rows", "positions_per_row")


@dataclass(frozen=True)
class WorldConfig:
    """Size and behaviour knobs of a synthetic world; the defaults are the demo world.

    Attributes:
        seed: Everything random derives from it; same config, same world.
        n_members: Members in the base.
        n_titles: Titles in the catalogue.
        days: Days simulated, starting at ``start``.
        start: First simulated day.
        sessions_per_day: Views per day streamed with chunk telemetry.
        active_rate: Mean chance a member visits on an ordinary weekday.
        max_rows: Most rows of titles on a home page (a visit shows 1..max_rows).
        positions_per_row: Titles per row.
        explore_share: Share of the logging policy that is uniform over titles.
        organic_rate: Mean number of search (non-impression) views per visit.
        new_release_share: Share of titles released during the simulated days.
        artwork_effect: Play-logit bonus of an artwork theme that fits a member's taste fully.
        rewatch_prob: Chance a member plays again a title watched on an earlier day.
        misleading_share: Chance that a high-appeal artwork variant is misleading: it
            draws plays, many of which are abandoned early (hidden; 0 for none).
        rate_based_share: Share of sessions on the rate-based ABR policy (else buffer-based).
        trace_duration_s: Length of synthetic traces (looped if a session outlasts them).
        bandwidth_shift: Drift injection for the release gates' tests: ``(country,
            multiplier)`` pairs; each listed country's network bandwidth (synthetic
            medians and real-trace scaling alike) is multiplied. Empty: no shift.
    """

    seed: int = 7
    n_members: int = 1_500
    n_titles: int = 400
    days: int = 21
    start: date = date(2026, 1, 1)
    sessions_per_day: int = 150
    active_rate: float = 0.6
    max_rows: int = 5
    positions_per_row: int = 6
    explore_share: float = 0.3
    organic_rate: float = 2.5
    new_release_share: float = 0.08
    artwork_effect: float = 2.0
    rewatch_prob: float = 0.05
    misleading_share: float = 0.6
    rate_based_share: float = 0.7
    trace_duration_s: float = 320.0
    bandwidth_shift: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        for name in _COUNTS:
            if getattr(self, name) < 1:
                raise ValueError(f"WorldConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in _SHARES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"WorldConfig.{name} must be in [0, 1], got {getattr(self, name)}")
        if self.sessions_per_day < 0 or self.organic_rate < 0 or self.trace_duration_s < 2:
            raise ValueError(
                "WorldConfig needs sessions_per_day >= 0, organic_rate >= 0 and "
                f"trace_duration_s >= 2, got {self.sessions_per_day}, {self.organic_rate}, "
                f"{self.trace_duration_s}"
            )
        for country, multiplier in self.bandwidth_shift:
            if country not in COUNTRY_LIST or not multiplier > 0:
                raise ValueError(
                    f"WorldConfig.bandwidth_shift needs (country, multiplier > 0) pairs with a "
                    f"country in {COUNTRY_LIST}, got ({country!r}, {multiplier})"
                )

    @classmethod
    def tiny(cls, **overrides) -> WorldConfig:
        """200 members, 80 titles, 7 days: for tests and smoke runs, in well under a second."""
        values = {"n_members": 200, "n_titles": 80, "days": 7, "sessions_per_day": 20}
        return cls(**(values | overrides))

    @classmethod
    def demo(cls, **overrides) -> WorldConfig:
        """About 1,500 members, 400 titles and 21 days: generates in seconds."""
        return cls(**overrides)

    @classmethod
    def large(cls, **overrides) -> WorldConfig:
        """10,000 members, 2,000 titles, 30 days: about a million viewing events."""
        values = {"n_members": 10_000, "n_titles": 2_000, "days": 30, "sessions_per_day": 700}
        return cls(**(values | overrides))

    @property
    def end(self) -> date:
        """Last simulated day."""
        return self.start + timedelta(days=self.days - 1)


@dataclass(frozen=True, eq=False)
class World:
    """A generated world.

    Attributes:
        config: What it was generated from.
        tables: The raw tables, keyed and shaped as :data:`reelops.schema.RAW_TABLES`.
        truth: Hidden ground truth, never part of the raw data:
            ``member_tastes`` (member_id, genre, weight; weights sum to 1 per member),
            ``member_activity`` (member_id, activity: chance of a weekday visit),
            ``title_quality`` (title_id, quality, popularity: log scale),
            ``artwork_appeal`` (title_id, variant_id, theme, genre, appeal: a member's
            play-logit bonus for a variant is the taste-weighted sum of ``appeal`` over
            genres), ``artwork_misleading`` (title_id, variant_id, theme, base_appeal,
            misleading: plays from it are abandoned early with probability
            ``behaviour.ABANDON_PROB``), ``network_quality`` (country, connection_type, median_mbps,
            volatility, outage_rate, trace_source, bandwidth_scale) and
            ``session_delivery`` (session_id, policy, trace_id, trace_mean_mbps).
    """

    config: WorldConfig
    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]

    def to_arrow(self, table: str) -> pa.Table:
        """Raw table ``table`` as Arrow, with exactly the contract's schema."""
        return to_arrow(table, self.tables[table])


def generate_world(
    config: WorldConfig,
    traces: list[Trace] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> World:
    """Generate a world.

    Args:
        config: Sizes, seed and behaviour knobs.
        traces: Real throughput traces to replay in playback sessions, each scaled by
            the member's country x connection multiplier; None for synthetic traces.
        progress: Called as ``progress(stage, done, total)``: ``"world"`` over its three
            steps (members and catalogue, behaviour, playback) and ``"playback sessions"``.

    Returns:
        The raw tables and the hidden truth. The same arguments give identical frames.
    """
    # Independent streams, so e.g. more sessions per day leave impressions unchanged.
    members_rng, catalog_rng, behaviour_rng, playback_rng, artwork_rng = _streams(config)
    report = progress or (lambda stage, done, total: None)
    report("world", 0, 3)
    members, catalog = _members_and_catalog(config, members_rng, catalog_rng)
    report("world", 1, 3)
    behaviour = simulate_behaviour(
        behaviour_rng,
        members,
        catalog,
        start=config.start,
        days=config.days,
        max_rows=config.max_rows,
        positions_per_row=config.positions_per_row,
        explore_share=config.explore_share,
        organic_rate=config.organic_rate,
        rewatch_prob=config.rewatch_prob,
        artwork_rng=artwork_rng,
    )
    report("world", 2, 3)
    network = _shifted(network_quality(traces), config.bandwidth_shift)
    playback = simulate_playback(
        playback_rng,
        behaviour,
        members,
        network,
        reference_video(),
        sessions_per_day=config.sessions_per_day,
        rate_based_share=config.rate_based_share,
        trace_duration_s=config.trace_duration_s,
        progress=progress,
    )
    report("world", 3, 3)
    produced = {
        "members": members.table,
        "titles": catalog.titles,
        "artwork_variants": catalog.artwork_variants,
        "viewing_events": behaviour.viewing_events,
        "impressions": behaviour.impressions,
        "playback_sessions": playback.playback_sessions,
        "delivery_chunks": playback.delivery_chunks,
    }
    tables = {name: produced[name] for name in RAW_TABLES}
    truth = {
        "member_tastes": members.taste_truth(),
        "member_activity": members.activity_truth(),
        "title_quality": catalog.title_quality_truth(),
        "artwork_appeal": catalog.artwork_appeal_truth(),
        "artwork_misleading": catalog.artwork_misleading_truth(),
        "network_quality": network.truth(),
        "session_delivery": playback.session_delivery,
    }
    return World(config, tables, truth)


def _streams(config: WorldConfig) -> list[np.random.Generator]:
    """Members, catalogue, behaviour, playback and artwork-abandonment random streams."""
    # spawn(5)'s first four children are spawn(4)'s: worlds from before the fifth match.
    return [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(5)]


def _members_and_catalog(
    config: WorldConfig, members_rng: np.random.Generator, catalog_rng: np.random.Generator
) -> tuple[Members, Catalog]:
    members = draw_members(members_rng, config.n_members, config.start, config.active_rate)
    catalog = draw_catalog(
        catalog_rng,
        config.n_titles,
        config.start,
        config.days,
        config.new_release_share,
        config.artwork_effect,
        config.misleading_share,
    )
    return members, catalog


def artwork_truth(config: WorldConfig) -> ArtworkTruth:
    """The hidden artwork model of the world ``config`` generates (members and catalogue
    are drawn again from their own streams: the same as in :func:`generate_world`)."""
    members_rng, catalog_rng, *_ = _streams(config)
    members, catalog = _members_and_catalog(config, members_rng, catalog_rng)
    return ArtworkTruth(members, catalog, config.start)


def _shifted(network: Network, shift: tuple[tuple[str, float], ...]) -> Network:
    if not shift:
        return network
    factor = np.ones((len(COUNTRY_LIST), 1))
    for country, multiplier in shift:
        factor[COUNTRY_LIST.index(country)] *= multiplier
    return replace(
        network,
        median_mbps=network.median_mbps * factor,
        bandwidth_scale=network.bandwidth_scale * factor,
    )


__all__ = ["World", "WorldConfig", "artwork_truth", "generate_world"]
