"""Artwork feature views: each variant's and theme's good-play evidence, members' theme affinity.

A good play is a completed or substantially watched play (fct_artwork_impressions), the
artwork chooser's reward; both marts roll 28 days and are known at the end of each day.
"""

from datetime import timedelta

from data_sources import artwork_variant_daily, member_theme_daily
from entities import artwork_theme, artwork_variant, member, title
from feast import FeatureView, Field
from feast.types import Float64, Int32

# Both marts have a row for every day of their key's span, so a value older than two days
# means the daily pipeline has stopped: serve it as missing rather than as today's.
ARTWORK_TTL = timedelta(days=2)

artwork_variant_stats = FeatureView(
    name="artwork_variant_stats",
    entities=[title, artwork_variant],
    ttl=ARTWORK_TTL,
    schema=[
        Field(name="impressions_28d", dtype=Int32, description="Impressions, 28 days."),
        Field(name="plays_28d", dtype=Int32, description="Played impressions, 28 days."),
        Field(name="good_plays_28d", dtype=Int32, description="Good plays, 28 days."),
        Field(name="play_rate_28d", dtype=Float64, description="Plays per impression, 28d."),
        Field(name="good_play_rate_28d", dtype=Float64, description="Good plays/impression."),
        Field(name="good_play_lift_28d", dtype=Float64, description="Rate over its title's."),
        Field(name="theme_impressions_28d", dtype=Int32, description="Theme, all titles, 28d."),
        Field(name="theme_good_play_rate_28d", dtype=Float64, description="Theme's rate, 28d."),
    ],
    source=artwork_variant_daily,
    online=True,
    description="How each artwork variant, and its theme over every title, leads to good plays.",
    tags={"owner": "reelops", "mart": "fct_artwork_variant_daily", "cadence": "daily"},
)

member_theme_affinity = FeatureView(
    name="member_theme_affinity",
    entities=[member, artwork_theme],
    ttl=ARTWORK_TTL,
    schema=[
        Field(name="impressions_28d", dtype=Int32, description="Theme impressions, 28d."),
        Field(name="good_plays_28d", dtype=Int32, description="Good plays from them, 28d."),
        Field(name="good_play_rate_28d", dtype=Float64, description="Good plays/impression."),
        Field(name="theme_affinity_28d", dtype=Float64, description="Shrunk rate / population."),
    ],
    source=member_theme_daily,
    online=True,
    description="A member's good-play rate on each artwork theme, raw and shrunk (1 = average).",
    tags={"owner": "reelops", "mart": "fct_member_theme_daily", "cadence": "daily"},
)
