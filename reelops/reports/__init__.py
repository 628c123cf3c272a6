"""The evidence pages: gate tables, plots and Evidently reports of every model version."""
