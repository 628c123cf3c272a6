"""Member feature views over fct_member_daily: recent activity and genre affinity."""

from datetime import timedelta

from data_sources import member_daily
from entities import member
from feast import FeatureView, Field
from feast.types import Float64, Int32

from reelops.features.transforms import AFFINITY_COLUMNS

# The mart has a row for every member and day, so a value older than two days means the
# daily pipeline has stopped: serve it as missing rather than as today's.
MEMBER_TTL = timedelta(days=2)

member_activity = FeatureView(
    name="member_activity",
    entities=[member],
    ttl=MEMBER_TTL,
    schema=[
        Field(name="views_7d", dtype=Int32, description="Views in the last 7 days."),
        Field(name="views_28d", dtype=Int32, description="Views in the last 28 days."),
        Field(name="watch_hours_28d", dtype=Float64, description="Hours watched, 28 days."),
        Field(name="completion_rate_28d", dtype=Float64, description="Completed share, 28d."),
        Field(name="distinct_titles_28d", dtype=Int32, description="Distinct titles, 28d."),
        Field(name="days_since_last_view", dtype=Int32, description="0 = watched that day."),
    ],
    source=member_daily,
    online=True,
    description="How much and how fully a member has been watching lately.",
    tags={"owner": "reelops", "mart": "fct_member_daily", "cadence": "daily"},
)

member_genre_affinity = FeatureView(
    name="member_genre_affinity",
    entities=[member],
    ttl=MEMBER_TTL,
    schema=[
        Field(name=column, dtype=Float64, description="Share of 28-day watch time.")
        for column in AFFINITY_COLUMNS
    ],
    source=member_daily,
    online=True,
    description="A member's share of the last 28 days' watch time per genre (aff_<genre>).",
    tags={"owner": "reelops", "mart": "fct_member_daily", "cadence": "daily"},
)
