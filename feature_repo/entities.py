"""Entities: who or what a feature describes, each with its explicit join key."""

from feast import Entity
from feast.value_type import ValueType

member = Entity(
    name="member",
    join_keys=["member_key"],
    value_type=ValueType.STRING,
    description="A member, by pseudonymous key (HMAC of the raw id; raw ids never reach Feast).",
    tags={"owner": "reelops", "pii": "pseudonymous"},
)

title = Entity(
    name="title",
    join_keys=["title_id"],
    value_type=ValueType.STRING,
    description="A title of the catalogue.",
    tags={"owner": "reelops"},
)

network = Entity(
    name="network",
    join_keys=["network_key"],
    value_type=ValueType.STRING,
    description="A delivery network context: country and connection type, 'US:cable'.",
    tags={"owner": "reelops"},
)

artwork_variant = Entity(
    name="artwork_variant",
    join_keys=["variant_id"],
    value_type=ValueType.STRING,
    description="An artwork variant of a title; variant ids are unique within their title.",
    tags={"owner": "reelops"},
)

artwork_theme = Entity(
    name="artwork_theme",
    join_keys=["theme"],
    value_type=ValueType.STRING,
    description="An artwork theme ('dark-moody', 'family', ...).",
    tags={"owner": "reelops"},
)
