"""The synthetic streaming world: members, titles, behaviour and delivery, from hidden truth."""

from reelops.world.generator import World, WorldConfig, generate_world

__all__ = ["World", "WorldConfig", "generate_world"]
