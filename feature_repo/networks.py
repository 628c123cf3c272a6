"""Network feature views over fct_network_daily: trailing throughput and rebuffering."""

from datetime import timedelta

from data_sources import network_daily
from entities import network
from feast import FeatureView, Field
from feast.types import Float64, Int32, String

network_throughput = FeatureView(
    name="network_throughput",
    entities=[network],
    # Rows exist only on days with sessions in the trailing week; a network quiet for
    # three days has no current estimate.
    ttl=timedelta(days=3),
    schema=[
        Field(name="country", dtype=String, description="Country of the network context."),
        Field(name="connection_type", dtype=String, description="fibre, cable, dsl, mobile."),
        Field(name="sessions_7d", dtype=Int32, description="Sessions in the last 7 days."),
        Field(name="chunks_7d", dtype=Int32, description="Chunks delivered, 7 days."),
        Field(name="throughput_mean_7d", dtype=Float64, description="Mean Mbit/s, 7 days."),
        Field(name="throughput_p10_7d", dtype=Float64, description="10th pct Mbit/s, 7d."),
        Field(name="throughput_p50_7d", dtype=Float64, description="Median Mbit/s, 7 days."),
        Field(name="throughput_p90_7d", dtype=Float64, description="90th pct Mbit/s, 7d."),
        Field(name="rebuffer_ratio_7d", dtype=Float64, description="Rebuffer s / played s."),
    ],
    source=network_daily,
    online=True,
    description="Throughput history of a country x connection type, for bitrate choice.",
    tags={"owner": "reelops", "mart": "fct_network_daily", "cadence": "daily"},
)
