"""Monitoring what was served: drift, skew and outcomes per model and day; log compaction."""
