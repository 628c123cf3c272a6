"""Feature services: the exact feature set of each model version."""

from artwork import artwork_variant_stats, member_theme_affinity
from feast import FeatureService
from members import member_activity, member_genre_affinity
from networks import network_throughput
from on_demand import member_title_affinity, title_freshness
from titles import title_genome, title_popularity

RANKER_V1_VIEWS = [
    member_activity,
    member_genre_affinity,
    title_popularity,
    member_title_affinity,
    title_freshness,
]

ranker_v1 = FeatureService(
    name="ranker_v1",
    features=RANKER_V1_VIEWS,
    description="Recommendation ranker v1: member, title and member x title features.",
    tags={"owner": "reelops", "model": "ranker", "version": "1"},
)

# The genome's numeric tags (its arc_shape is a name; the arc_* fits carry it as numbers).
ranker_v2 = FeatureService(
    name="ranker_v2",
    features=[
        *RANKER_V1_VIEWS,
        title_genome[[f.name for f in title_genome.features if f.name != "arc_shape"]],
    ],
    description=(
        "Recommendation ranker v2: ranker_v1's features plus the title's Content Genome "
        "(not used by the ranker's spec yet)."
    ),
    tags={"owner": "reelops", "model": "ranker", "version": "2"},
)

bitrate_v1 = FeatureService(
    name="bitrate_v1",
    features=[network_throughput],
    description="Delivery bitrate predictor v1: the network context's throughput history.",
    tags={"owner": "reelops", "model": "bitrate", "version": "1"},
)

artwork_v1 = FeatureService(
    name="artwork_v1",
    features=[artwork_variant_stats, member_theme_affinity, member_activity],
    description=(
        "Artwork chooser v1: the variant's and its theme's good-play evidence, the member's "
        "affinity for the theme and recent activity."
    ),
    tags={"owner": "reelops", "model": "artwork", "version": "1"},
)
