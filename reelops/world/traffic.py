"""The world, live: members answer what the endpoints served them, by the hidden truth.

One simulated day (:func:`simulate_day`): the members who visit (their hidden activity
and the weekday) each ask for a home page (``recommend``); they play a served title
with the world's hidden play model (taste match, title quality, freshness, the row and
position, the artwork variant's appeal) and finish it with its completion model
(misleading artwork abandoned early), and find a few more titles by search, as in
:mod:`reelops.world.behaviour`. A sample of the day's views is streamed chunk by chunk
over a trace of the member's network, the level of every chunk after the first chosen
by ``decide`` (the bitrate endpoint). What comes out are the day's raw event tables in
the source contract, so ``pipeline run`` lands them like the generated days.

Nothing here calls a service: ``recommend`` and ``decide`` are plain callables, given
by :mod:`reelops.serving.traffic` (in-process endpoints or HTTP).

Changes injected from a day on (:class:`Change`): a taste shift in a country (its
members' tastes rotate to other genres), a network degradation (the country's
bandwidth times :data:`DEGRADED_BANDWIDTH`), a broken upstream feature (a raw
``table.column`` zeroed for the country's rows).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from reelops.abr.simulator import PlayerState, simulate_session
from reelops.abr.video import reference_video
from reelops.schema import DEVICES, RAW_TABLES
from reelops.world import behaviour as hidden
from reelops.world.catalog import GENRE_LIST
from reelops.world.frames import lookup, microseconds, padded_ids, raw_frame
from reelops.world.members import CONNECTION_LIST, COUNTRY_LIST
from reelops.world.network import Network, network_quality, session_traces
from reelops.world.sampling import row_categorical, sample_weighted

POSITIONS_PER_ROW = 6
HOME_TITLES = 18  # three rows of six (a generated home page has 1 to 5): what a visit asks for
ORGANIC_RATE = 2.5  # search views per visit beside the home page, as in the generated days
DEGRADED_BANDWIDTH = 0.3
TASTE_ROTATION = 7  # a shifted member's weight of genre g moves to genre g + 7
RECENT_CHUNKS = 8  # chunks a player sends with each bitrate request
CHANGE_KINDS = ("taste", "network", "broken")
CHANGES_FILE = "traffic_changes.json"


@dataclass(frozen=True)
class Change:
    """A change of the world from ``day`` on, in members of ``country``.

    Attributes:
        kind: ``taste`` (tastes rotate), ``network`` (bandwidth degrades) or
            ``broken`` (raw ``column``, as ``table.column``, arrives zeroed).
        country: One of the world's countries.
        day: First day it applies.
        column: For ``broken`` only.
    """

    kind: str
    country: str
    day: date
    column: str | None = None

    def applies(self, day: date) -> bool:
        return day >= self.day

    def describe(self) -> str:
        what = {"taste": "taste shift", "network": "network degradation"}.get(self.kind)
        what = what or f"broken {self.column}"
        return f"{what} in {self.country} from {self.day}"


def parse_change(kind: str, text: str) -> Change:
    """``COUNTRY@YYYY-MM-DD`` (``taste``, ``network``) or ``table.column:COUNTRY@YYYY-MM-DD``.

    Raises:
        ValueError: naming the part that is wrong and what is allowed.
    """
    column = None
    if kind == "broken":
        column, sep, text = text.partition(":")
        table, dot, name = column.partition(".")
        if not sep or not dot or table not in RAW_TABLES:
            raise ValueError(
                f"expected TABLE.COLUMN:COUNTRY@YYYY-MM-DD with a table of {sorted(RAW_TABLES)}, "
                f"got {column + sep + text!r}"
            )
        field = (
            RAW_TABLES[table].schema.field(name) if name in RAW_TABLES[table].schema.names else None
        )
        if (
            field is None
            or not pa.types.is_floating(field.type)
            and not pa.types.is_integer(field.type)
        ):
            raise ValueError(f"{column}: not a numeric column of raw table {table!r}")
    country, at, day = text.partition("@")
    if country not in COUNTRY_LIST or not at:
        raise ValueError(
            f"expected COUNTRY@YYYY-MM-DD with a country of {COUNTRY_LIST}, got {text!r}"
        )
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise ValueError(f"{day!r}: expected a day as YYYY-MM-DD") from None
    return Change(kind, country, when, column)


def load_changes(truth_dir: Path) -> list[Change]:
    """The changes injected by earlier traffic runs (they go on applying)."""
    path = truth_dir / CHANGES_FILE
    if not path.is_file():
        return []
    return [
        Change(c["kind"], c["country"], date.fromisoformat(c["day"]), c.get("column"))
        for c in json.loads(path.read_text())
    ]


def save_changes(truth_dir: Path, changes: Sequence[Change]) -> None:
    """Keep the changes beside the world's hidden truth, for the next traffic runs."""
    rows = [{**asdict(c), "day": c.day.isoformat()} for c in dict.fromkeys(changes)]
    truth_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / CHANGES_FILE).write_text(json.dumps(rows, indent=1) + "\n")


def _genre_matrix(genres: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Titles' ``a|b|c`` genres as (titles, 3) indices into GENRE_LIST (-1 pads), and counts."""
    index = {g: i for i, g in enumerate(GENRE_LIST)}
    out = np.full((len(genres), 3), -1, dtype=np.int64)
    for row, text in enumerate(genres.astype(str)):
        found = [index[g] for g in text.split("|") if g in index][:3]
        out[row, : len(found)] = found
    return out, np.maximum((out >= 0).sum(axis=1), 1)


@dataclass(eq=False)
class LiveWorld:
    """The world's members and titles with their hidden truth, as arrays.

    Built from a stored world (:meth:`from_tables`): the raw members, titles and
    artwork tables, the truth tables, and the viewing history (for rewatches).
    """

    member_ids: np.ndarray
    country: np.ndarray  # index into COUNTRY_LIST
    connection: np.ndarray  # index into CONNECTION_LIST
    devices: np.ndarray  # (members, len(DEVICES)) bool
    taste: np.ndarray  # (members, genres)
    activity: np.ndarray
    title_ids: np.ndarray
    genres: np.ndarray
    n_genres: np.ndarray
    quality: np.ndarray
    popularity: np.ndarray
    runtime_min: np.ndarray
    release: np.ndarray  # datetime64[D]
    variant_ids: np.ndarray
    variant_start: np.ndarray  # per title, first row in the variant arrays
    n_variants: np.ndarray
    variant_appeal: np.ndarray  # (variants, genres)
    variant_misleading: np.ndarray
    watched: set[tuple[int, int]]  # (member, title) pairs seen before
    network: Network

    @classmethod
    def from_tables(
        cls, tables: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame]
    ) -> LiveWorld:
        members = tables["members"].reset_index(drop=True)
        titles = tables["titles"].reset_index(drop=True)
        variants = tables["artwork_variants"].sort_values(["title_id", "variant_id"])
        member_pos = pd.Series(np.arange(len(members)), index=members["member_id"].astype(str))
        title_pos = pd.Series(np.arange(len(titles)), index=titles["title_id"].astype(str))
        genre_pos = {g: i for i, g in enumerate(GENRE_LIST)}

        tastes = truth["member_tastes"]
        taste = np.zeros((len(members), len(GENRE_LIST)))
        taste[
            member_pos[tastes["member_id"].astype(str)].to_numpy(),
            tastes["genre"].map(genre_pos).to_numpy(),
        ] = tastes["weight"].to_numpy()
        activity = np.full(len(members), 0.5)
        act = truth["member_activity"]
        activity[member_pos[act["member_id"].astype(str)].to_numpy()] = act["activity"].to_numpy()
        quality_truth = truth["title_quality"].set_index("title_id")
        ids = titles["title_id"].astype(str)
        quality = quality_truth["quality"].reindex(ids).fillna(0.0).to_numpy()
        popularity = quality_truth["popularity"].reindex(ids).fillna(0.0).to_numpy()
        genres, n_genres = _genre_matrix(titles["genres"])

        v_title = title_pos[variants["title_id"].astype(str)].to_numpy()
        order = np.argsort(v_title, kind="stable")
        variants, v_title = variants.iloc[order].reset_index(drop=True), v_title[order]
        n_variants = np.bincount(v_title, minlength=len(titles))
        variant_start = np.concatenate([[0], np.cumsum(n_variants)[:-1]])
        variant_pos = pd.Series(np.arange(len(variants)), index=variants["variant_id"].astype(str))
        appeal_rows = truth["artwork_appeal"]
        appeal = np.zeros((len(variants), len(GENRE_LIST)))
        appeal[
            variant_pos[appeal_rows["variant_id"].astype(str)].to_numpy(),
            appeal_rows["genre"].map(genre_pos).to_numpy(),
        ] = appeal_rows["appeal"].to_numpy()
        misleading = np.zeros(len(variants), dtype=bool)
        if "artwork_misleading" in truth:
            m = truth["artwork_misleading"]
            misleading[variant_pos[m["variant_id"].astype(str)].to_numpy()] = m["misleading"]

        views = tables.get("viewing_events")
        watched: set[tuple[int, int]] = set()
        if views is not None and len(views):
            mv = member_pos.reindex(views["member_id"].astype(str)).to_numpy()
            tv = title_pos.reindex(views["title_id"].astype(str)).to_numpy()
            ok = ~(np.isnan(mv) | np.isnan(tv))
            watched = set(
                zip(mv[ok].astype(int).tolist(), tv[ok].astype(int).tolist(), strict=True)
            )
        device_sets = members["devices"].astype(str).str.split(",")
        devices = np.array([[d in s for d in DEVICES] for s in device_sets], dtype=bool)
        return cls(
            member_ids=members["member_id"].astype(str).to_numpy(),
            country=members["country"].map({c: i for i, c in enumerate(COUNTRY_LIST)}).to_numpy(),
            connection=members["connection_type"]
            .map({c: i for i, c in enumerate(CONNECTION_LIST)})
            .to_numpy(),
            devices=devices,
            taste=taste,
            activity=activity,
            title_ids=ids.to_numpy(),
            genres=genres,
            n_genres=n_genres,
            quality=quality,
            popularity=popularity,
            runtime_min=titles["runtime_min"].to_numpy(),
            release=pd.to_datetime(titles["release_date"]).to_numpy().astype("datetime64[D]"),
            variant_ids=variants["variant_id"].astype(str).to_numpy(),
            variant_start=variant_start,
            n_variants=n_variants,
            variant_appeal=appeal,
            variant_misleading=misleading,
            watched=watched,
            network=network_quality(None),
        )

    def taste_on(self, day: date, changes: Sequence[Change]) -> np.ndarray:
        """Every member's taste on ``day``: rotated in the countries of a taste shift."""
        taste = self.taste
        for change in changes:
            if change.kind == "taste" and change.applies(day):
                rows = self.country == COUNTRY_LIST.index(change.country)
                taste = taste.copy()
                taste[rows] = np.roll(taste[rows], TASTE_ROTATION, axis=1)
        return taste

    def network_on(self, day: date, changes: Sequence[Change]) -> Network:
        """The network on ``day``: degraded in the countries of a network change."""
        factor = np.ones((len(COUNTRY_LIST), 1))
        for change in changes:
            if change.kind == "network" and change.applies(day):
                factor[COUNTRY_LIST.index(change.country)] *= DEGRADED_BANDWIDTH
        net = self.network
        return Network(
            net.median_mbps * factor,
            net.volatility,
            net.outage_rate,
            net.bandwidth_scale * factor,
            net.real_traces,
        )


@dataclass(frozen=True)
class Visit:
    """One member's home-page request: what ``recommend`` is asked."""

    member_id: str
    country: str
    at: datetime


Recommend = Callable[[Visit], list[str]]
Decide = Callable[[dict, datetime], int]


class EndpointPolicy:
    """An ABR policy that asks the bitrate endpoint for each chunk's level, as a player does."""

    def __init__(self, decide: Decide, device: str, country: str, connection: str, at: datetime):
        self.decide, self.at = decide, at
        self.context = {"device": device, "country": country, "connection": connection}
        self.calls = 0

    def reset(self) -> None:
        self.calls = 0

    def choose(self, state: PlayerState) -> int:
        first = max(0, len(state.levels) - RECENT_CHUNKS)
        payload = {
            "session": [
                {
                    "level": int(state.levels[i]),
                    "throughput_mbps": round(float(state.throughputs_mbps[i]), 4),
                    "download_s": round(float(state.download_s[i]), 4),
                }
                for i in range(first, len(state.levels))
            ],
            "chunk_index": int(state.chunk_index),
            "buffer_s": round(min(float(state.buffer_s), 600.0), 3),
            **self.context,
        }
        self.calls += 1
        level = int(self.decide(payload, self.at))
        return min(max(level, 0), state.video.n_levels - 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class DayTraffic:
    """One simulated day: its raw event tables and what happened, counted."""

    tables: dict[str, pd.DataFrame]
    visits: int
    recommend_calls: int
    bitrate_calls: int


def simulate_day(
    live: LiveWorld,
    day: date,
    rng: np.random.Generator,
    recommend: Recommend,
    decide: Decide,
    *,
    changes: Sequence[Change] = (),
    sessions_per_day: int = 150,
    rewatch_prob: float = 0.05,
) -> DayTraffic:
    """Play one day of the world against the endpoints; return its raw event tables."""
    taste = live.taste_on(day, changes)
    day_start = np.datetime64(day, "us")
    weekday = hidden.WEEKDAY_ACTIVITY[day.weekday()]
    visitors = np.flatnonzero(
        rng.random(len(live.activity)) < np.clip(live.activity * weekday, 0, 0.97)
    )
    seconds = np.clip(
        rng.normal(20.5, 1.6, len(visitors)) * 3600.0, 0.0, hidden.LAST_VISIT_S - 1800
    )
    order = np.argsort(seconds, kind="stable")
    visitors, seconds = visitors[order], seconds[order]
    at = microseconds(day_start, np.zeros(len(visitors), dtype=np.int64), seconds)

    title_pos = {t: i for i, t in enumerate(live.title_ids)}
    slot_member, slot_title, slot_row, slot_pos, slot_s = [], [], [], [], []
    for m, s, ts in zip(visitors, seconds, at, strict=True):
        visit = Visit(str(live.member_ids[m]), COUNTRY_LIST[live.country[m]], ts.astype(datetime))
        served = [title_pos[t] for t in recommend(visit) if t in title_pos]
        n = len(served)
        slot_member.append(np.full(n, m))
        slot_title.append(np.asarray(served, dtype=np.int64))
        slot_row.append(np.arange(n) // POSITIONS_PER_ROW)
        slot_pos.append(np.arange(n) % POSITIONS_PER_ROW)
        slot_s.append(s + 2.0 + np.arange(n) * 0.6)
    cat = lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)  # noqa: E731
    member, title = cat(slot_member, np.int64), cat(slot_title, np.int64)
    row, position, slot_seconds = (
        cat(slot_row, np.int32),
        cat(slot_pos, np.int32),
        cat(slot_s, float),
    )
    variant = live.variant_start[title] + (
        rng.random(len(title)) * np.maximum(live.n_variants[title], 1)
    ).astype(np.int64)
    variant = np.minimum(variant, len(live.variant_ids) - 1)

    fresh = hidden.freshness(
        np.zeros(len(title)), (np.datetime64(day, "D") - live.release[title]).astype(np.int64)
    )
    match = hidden.taste_match(taste, live.genres, live.n_genres, member, title)
    appeal = (taste[member] * live.variant_appeal[variant]).sum(axis=1)
    logit = (
        hidden.PLAY_INTERCEPT
        + hidden.TASTE_EFFECT * match
        + hidden.QUALITY_EFFECT * live.quality[title]
        + appeal
        + hidden.ROW_EFFECT * row
        + hidden.POSITION_EFFECT * position
        + hidden.FRESH_EFFECT * fresh
    )
    played = rng.random(len(logit)) < _sigmoid(logit)
    seen = np.array(
        [(int(a), int(b)) in live.watched for a, b in zip(member, title, strict=True)], dtype=bool
    )
    played &= ~seen | (rng.random(len(seen)) < rewatch_prob)

    # Searches: a genre from the member's taste, then a title of it by quality and popularity.
    per_visit = rng.poisson(ORGANIC_RATE, len(visitors))
    s_member = np.repeat(visitors, per_visit)
    s_seconds = np.repeat(seconds, per_visit) + rng.uniform(60.0, 1800.0, len(s_member))
    genre = row_categorical(rng, taste[s_member]) if len(s_member) else np.zeros(0, np.int64)
    released = live.release <= np.datetime64(day, "D")
    weight = np.where(released, np.exp(live.quality + 0.5 * live.popularity), 0.0)
    s_title = np.empty(len(s_member), dtype=np.int64)
    for g in np.unique(genre):
        rows = np.flatnonzero(genre == g)
        in_genre = np.where((live.genres == g).any(axis=1), weight, 0.0)
        s_title[rows] = sample_weighted(rng, in_genre if in_genre.any() else weight, len(rows))

    from_slot = np.flatnonzero(played)
    v_member = np.concatenate([member[from_slot], s_member])
    v_title = np.concatenate([title[from_slot], s_title])
    v_seconds = np.concatenate(
        [slot_seconds[from_slot] + rng.uniform(3.0, 45.0, len(from_slot)), s_seconds]
    )
    v_slot = np.concatenate([from_slot, np.full(len(s_member), -1)])
    # One play per member and title a day.
    key = v_member * len(live.title_ids) + v_title
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(key), dtype=bool)
    keep[first] = True
    played[v_slot[(v_slot >= 0) & ~keep]] = False
    v_member, v_title, v_seconds, v_slot = (
        v_member[keep],
        v_title[keep],
        v_seconds[keep],
        v_slot[keep],
    )
    v_match = hidden.taste_match(taste, live.genres, live.n_genres, v_member, v_title)
    mean = _sigmoid(
        hidden.COMPLETION_INTERCEPT
        + hidden.COMPLETION_TASTE * v_match
        + hidden.COMPLETION_QUALITY * live.quality[v_title]
    )
    k = hidden.COMPLETION_CONCENTRATION
    completion = rng.beta(mean * k, (1 - mean) * k)
    misleading = np.zeros(len(v_slot), dtype=bool)
    misleading[v_slot >= 0] = live.variant_misleading[variant[v_slot[v_slot >= 0]]]
    abandon = misleading & (rng.random(len(v_slot)) < hidden.ABANDON_PROB)
    completion = np.where(
        abandon,
        completion * rng.uniform(hidden.ABANDON_MIN_SHARE, hidden.ABANDON_MAX_SHARE, len(v_slot)),
        completion,
    )
    completion = np.where(completion > 0.97, 1.0, np.maximum(completion, 0.01)).round(4)
    watched_s = np.round(completion * live.runtime_min[v_title] * 60).astype(np.int64)
    preference = live.devices[v_member] * np.array([hidden.DEVICE_PREFERENCE[d] for d in DEVICES])
    device = row_categorical(
        rng, preference / np.maximum(preference.sum(axis=1, keepdims=True), 1e-9)
    )
    live.watched.update(zip(v_member.tolist(), v_title.tolist(), strict=True))

    stamp = f"{day:%Y%m%d}"
    v_ts = microseconds(
        day_start, np.zeros(len(v_member), dtype=np.int64), np.minimum(v_seconds, 86_399.0)
    )
    v_order = np.lexsort((v_title, v_member, v_ts))
    member_ids, title_ids = pa.array(live.member_ids), pa.array(live.title_ids)
    viewing = raw_frame(
        "viewing_events",
        {
            "event_id": padded_ids(f"e{stamp}-", np.arange(len(v_order)), 6),
            "member_id": lookup(v_member[v_order], member_ids),
            "title_id": lookup(v_title[v_order], title_ids),
            "ts": v_ts[v_order],
            "device": lookup(device[v_order], DEVICES),
            "seconds_watched": watched_s[v_order],
            "completion": completion[v_order],
            "rating": pa.nulls(len(v_order), pa.float64()),
        },
    )
    slot_completion = np.zeros(len(title))
    slot_completion[v_slot[v_slot >= 0]] = completion[v_slot >= 0]
    i_ts = microseconds(day_start, np.zeros(len(title), dtype=np.int64), slot_seconds)
    impressions = raw_frame(
        "impressions",
        {
            "impression_id": padded_ids(f"i{stamp}-", np.arange(len(title)), 7),
            "member_id": lookup(member, member_ids),
            "title_id": lookup(title, title_ids),
            "variant_id": lookup(variant, pa.array(live.variant_ids)),
            "ts": i_ts,
            "row_index": row,
            "position": position,
            # The endpoint's ranking is deterministic; the variant is uniform over the title's.
            "propensity": 1.0 / np.maximum(live.n_variants[title], 1),
            "played": played,
            "completion": slot_completion,
        },
    )
    sessions, chunks, bitrate_calls = _stream(
        live,
        day,
        rng,
        decide,
        changes,
        viewing,
        v_member[v_order],
        device[v_order],
        sessions_per_day,
    )
    tables = {
        "viewing_events": viewing,
        "impressions": impressions,
        "playback_sessions": sessions,
        "delivery_chunks": chunks,
    }
    tables = _broken(tables, live, changes, day)
    return DayTraffic(tables, len(visitors), len(visitors), bitrate_calls)


def _stream(live, day, rng, decide, changes, viewing, view_member, view_device, per_day):
    """Stream a sample of the day's views with the bitrate endpoint choosing levels."""
    video = reference_video()
    n = min(per_day, len(viewing))
    picked = np.sort(rng.choice(len(viewing), size=n, replace=False)) if n else np.zeros(0, int)
    member = view_member[picked]
    country, connection = live.country[member], live.connection[member]
    traces = session_traces(rng, live.network_on(day, changes), country, connection, 320.0, 0)
    stamp = f"{day:%Y%m%d}"
    session_ids = padded_ids(f"s{stamp}-", np.arange(n), 5)
    session_ts = viewing["ts"].to_numpy().astype("datetime64[us]")[picked]
    # Every telemetry column of delivery_chunks after its key and timestamp.
    columns = {c: [] for c in RAW_TABLES["delivery_chunks"].schema.names[3:]}
    wall, calls = [], 0
    for i, trace in enumerate(traces):
        policy = EndpointPolicy(
            decide,
            DEVICES[view_device[picked[i]]],
            COUNTRY_LIST[country[i]],
            CONNECTION_LIST[connection[i]],
            session_ts[i].astype(datetime),
        )
        result = simulate_session(trace, video, policy)
        calls += policy.calls
        for name, values in columns.items():
            values.append(getattr(result, name))
        wall.append(result.wall_s)
    sessions = raw_frame(
        "playback_sessions",
        {
            "session_id": session_ids,
            "member_id": lookup(member, pa.array(live.member_ids)),
            "title_id": pa.array(viewing["title_id"]).take(pa.array(picked)),
            "ts": session_ts,
            "device": lookup(view_device[picked], DEVICES),
            "country": lookup(country, COUNTRY_LIST),
            "connection_type": lookup(connection, CONNECTION_LIST),
            "trace_id": [f"live-{stamp}-{t.trace_id}" for t in traces],
        },
    )
    n_chunks = video.n_chunks
    chunk_session = np.repeat(np.arange(n), n_chunks)
    flat = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in columns.items()}
    wall_us = np.round((np.concatenate(wall) if wall else np.zeros(0)) * 1e6).astype(np.int64)
    chunks = raw_frame(
        "delivery_chunks",
        {
            "session_id": lookup(chunk_session, session_ids),
            "chunk_index": np.tile(np.arange(n_chunks), n),
            "ts": session_ts[chunk_session] + wall_us.astype("timedelta64[us]"),
            **flat,
        },
    )
    return sessions, chunks, calls


def _broken(tables, live: LiveWorld, changes: Sequence[Change], day: date):
    """Zero each broken column in the rows of its country's members (or sessions)."""
    for change in changes:
        if change.kind != "broken" or not change.applies(day):
            continue
        table, column = change.column.split(".", 1)
        if table not in tables:
            continue
        frame = tables[table]
        if table == "delivery_chunks":
            sessions = tables["playback_sessions"]
            hit = sessions.loc[sessions["country"] == change.country, "session_id"]
            rows = frame["session_id"].isin(set(hit))
        elif "member_id" in frame.columns:
            of_country = live.member_ids[live.country == COUNTRY_LIST.index(change.country)]
            rows = frame["member_id"].isin(set(of_country))
        else:
            continue
        frame = frame.copy()
        frame.loc[rows, column] = 0
        tables[table] = frame
    return tables
