"""Feature store (Feast): definitions per source, materialization, training sets, lookups."""
