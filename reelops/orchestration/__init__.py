"""Everything that knows Airflow: Assets, task adapters, release tail, DAG runs, processes."""
