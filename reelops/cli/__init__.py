"""The `reelops` command line: one typed command per thing a user does."""

from reelops.cli.main import app

__all__ = ["app"]
