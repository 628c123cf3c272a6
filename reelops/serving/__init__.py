"""Online serving: request schemas, API keys, limits, metrics, prediction logs, hot reload."""
