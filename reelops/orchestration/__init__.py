"""Everything that knows Airflow: task adapters, the release tail, DAG runs, local processes."""
