"""Reproducible benchmarks: each writes JSON under benchmarks/results/ and prints a table."""
