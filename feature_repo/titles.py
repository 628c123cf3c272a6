"""Title feature views: daily popularity and completion, static catalogue facts, the genome."""

from datetime import timedelta

from data_sources import title_catalogue_source, title_daily, title_genome_source
from entities import title
from feast import FeatureView, Field
from feast.types import Float64, Int32, String, UnixTimestamp

from reelops.content.genome import TAGS
from reelops.features.transforms import GENRE_FLAG_COLUMNS, GENRE_SLUGS

title_popularity = FeatureView(
    name="title_popularity",
    entities=[title],
    ttl=timedelta(days=2),
    schema=[
        Field(name="plays_1d", dtype=Int32, description="Plays on the day."),
        Field(name="plays_7d", dtype=Int32, description="Plays in the last 7 days."),
        Field(name="plays_28d", dtype=Int32, description="Plays in the last 28 days."),
        Field(name="viewers_28d", dtype=Int32, description="Distinct viewers, 28 days."),
        Field(name="completion_rate_28d", dtype=Float64, description="Completed share, 28d."),
        Field(name="impressions_7d", dtype=Int32, description="Home-page impressions, 7d."),
        Field(name="play_rate_7d", dtype=Float64, description="Played impressions share, 7d."),
        Field(name="days_since_release", dtype=Int32, description="As of the feature day."),
        Field(name="popularity_rank_7d", dtype=Int32, description="1 = most played, 7d."),
    ],
    source=title_daily,
    online=True,
    description="How much a title is played, completed and chosen from the home page.",
    tags={"owner": "reelops", "mart": "fct_title_daily", "cadence": "daily"},
)

title_catalogue = FeatureView(
    name="title_catalogue",
    entities=[title],
    # Static facts never expire; ttl 0 means "no limit" to Feast.
    ttl=timedelta(0),
    schema=[
        *[
            Field(name=column, dtype=Int32, description="1 if the title has the genre.")
            for column in GENRE_FLAG_COLUMNS
        ],
        Field(name="n_genres", dtype=Int32, description="Number of genres of the title."),
        Field(name="release_ts", dtype=UnixTimestamp, description="Release, 00:00 UTC."),
    ],
    source=title_catalogue_source,
    online=True,
    description="Genre flags and release time of each title (dim_titles).",
    # reelops.features.materialize refreshes views tagged static in full on every run,
    # so titles added to the catalogue reach the online store whatever their valid_from.
    tags={"owner": "reelops", "mart": "dim_titles", "cadence": "static"},
)

title_genome = FeatureView(
    name="title_genome",
    entities=[title],
    ttl=timedelta(0),  # a title's genome holds until the next build replaces it
    schema=[
        Field(name="arc_shape", dtype=String, description="The arc's shape among the six."),
        *[Field(name=tag, dtype=Float64, description="Genome tag, 0..1.") for tag in TAGS],
        *[
            Field(name=f"blend_{slug}", dtype=Float64, description="Genre share, 0..1.")
            for slug in GENRE_SLUGS
            if slug != "unknown"
        ],
    ],
    source=title_genome_source,
    online=True,
    description="The Content Genome of each title with a script (dim_title_genome).",
    # Refreshed in full on every materialization, like title_catalogue: a rebuilt
    # genome keeps its constant valid_from.
    tags={"owner": "reelops", "mart": "dim_title_genome", "cadence": "static"},
)
