"""`python -m reelops.cli`: the same as the `reelops` command."""

from reelops.cli.main import app

app()
