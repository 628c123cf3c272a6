"""Request-time features: member x title genre affinity and hours since release.

The logic lives in ``reelops.features.transforms`` so that tests and serving use the
same code; these wrappers only wire Feast sources to it.
"""

import pandas as pd
from data_sources import ranking_request
from feast import Field
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64
from members import member_genre_affinity
from titles import title_catalogue


@on_demand_feature_view(
    sources=[member_genre_affinity, title_catalogue],
    schema=[Field(name="genre_affinity", dtype=Float64)],
    mode="pandas",
    description="Share of the member's 28-day watch time in the title's genres.",
    tags={"owner": "reelops", "inputs": "member_genre_affinity,title_catalogue"},
)
def member_title_affinity(inputs: pd.DataFrame) -> pd.DataFrame:
    from reelops.features import transforms

    return transforms.member_title_affinity(inputs)


@on_demand_feature_view(
    sources=[title_catalogue, ranking_request],
    schema=[Field(name="hours_since_release", dtype=Float64)],
    mode="pandas",
    description="Hours from the title's release to the request (negative before release).",
    tags={"owner": "reelops", "inputs": "title_catalogue,ranking_request"},
)
def title_freshness(inputs: pd.DataFrame) -> pd.DataFrame:
    from reelops.features import transforms

    return transforms.hours_since_release(inputs)
