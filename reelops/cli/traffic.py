"""`reelops world traffic`: the world's members play the endpoints and answer, day by day."""

from __future__ import annotations

from typing import Annotated

import typer

from reelops.cli.console import fail
from reelops.config import get_settings

CHANGE = "COUNTRY@YYYY-MM-DD"


def traffic_command(
    days: Annotated[int, typer.Option(min=1, max=366, metavar="N", help="Days to play.")] = 1,
    url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="The recommender service (e.g. http://127.0.0.1:3000); default: in-process "
            "endpoints, logged at the simulated clock.",
        ),
    ] = None,
    bitrate_url: Annotated[
        str | None,
        typer.Option(metavar="URL", help="The bitrate service (with --url; e.g. :3001)."),
    ] = None,
    taste_shift: Annotated[
        list[str] | None,
        typer.Option(metavar=CHANGE, help="Members of COUNTRY change taste from that day on."),
    ] = None,
    network_degradation: Annotated[
        list[str] | None,
        typer.Option(metavar=CHANGE, help="COUNTRY's bandwidth drops to 30 % from that day on."),
    ] = None,
    broken_feature: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TABLE.COLUMN:" + CHANGE,
            help="A raw column arrives zeroed for COUNTRY's rows from that day on, e.g. "
            "viewing_events.completion:NO@2026-01-25.",
        ),
    ] = None,
    sessions: Annotated[
        int, typer.Option(min=0, metavar="N", help="Playback sessions streamed per day.")
    ] = 150,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Random seed of the members' answers.")
    ] = 0,
) -> None:
    """Play the world's members against the recommender and bitrate endpoints.

    Each day after the source's last one, the members who visit ask /recommend for their
    home page and play, finish or abandon what they were served by the world's hidden
    truth; a sample of views streams chunk by chunk with /bitrate choosing each level over
    the member's network. The day is appended to the world source: land it with
    `reelops pipeline run`. Changes (repeatable options) go on applying in later runs.
    """
    from reelops.serving.traffic import play_traffic
    from reelops.sources import SourceError
    from reelops.world.traffic import parse_change

    changes = []
    try:
        for kind, values in (
            ("taste", taste_shift),
            ("network", network_degradation),
            ("broken", broken_feature),
        ):
            changes += [parse_change(kind, v) for v in values or []]
    except ValueError as error:
        fail(str(error))
    if bitrate_url and not url:
        fail("--bitrate-url needs --url (the recommender) too")
    for change in changes:
        typer.echo(f"injecting: {change.describe()}")

    def show(day) -> None:
        rows = ", ".join(f"{t} {n:,}" for t, n in day.rows.items())
        typer.echo(
            f"{day.day}: {day.visits:,} visits, {day.recommend_calls:,} /recommend, "
            f"{day.bitrate_calls:,} /bitrate calls; {rows}; {day.seconds:.1f} s "
            f"({day.cpu_seconds:.1f} s CPU)"
        )

    try:
        play_traffic(
            get_settings(),
            days,
            changes=changes,
            recommender_url=url,
            bitrate_url=bitrate_url,
            sessions_per_day=sessions,
            seed=seed,
            report=show,
        )
    except (SourceError, LookupError, RuntimeError) as error:
        fail(str(error))
    typer.echo("appended to the source; land with `reelops pipeline run --start ... --end ...`")
