"""Scripts as data: Fountain screenplays and plays parsed, analyzed, turned into a genome."""
