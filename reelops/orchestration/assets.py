"""The Assets the DAGs publish and schedule on, named once (light: Airflow's Asset only).

A DAG file imports these objects rather than spelling an Asset's name itself, so a
misspelt name fails at import instead of silently never triggering a schedule.
"""

from __future__ import annotations

from airflow.sdk import Asset

WAREHOUSE_MARTS = Asset("reelops_warehouse_marts")
"""The dbt marts, published by the daily DAG's ``build_warehouse``."""

ONLINE_FEATURES = Asset("reelops_online_features")
"""The Feast online store, published by ``materialize_features``; the training DAGs run on it."""

SCRIPTS = Asset("reelops_scripts")
"""The imported scripts, updated by ``reelops import scripts`` (not by a DAG): an Asset
event through the running Airflow's REST API. The content DAG is scheduled on it."""

SERVING_LOGS = Asset("reelops_serving_logs")
"""A day of prediction logs, compacted; published by ``reelops_serving_logs``, the
monitoring DAG runs on it (the event's extra names the day)."""

RETRAIN_REQUESTED = Asset("reelops_retrain_requested")
"""Published by the monitoring DAG when a check failed (extra: the models and why); both
training DAGs run on it as well as on the online features."""

ASSETS = (WAREHOUSE_MARTS, ONLINE_FEATURES, SCRIPTS, SERVING_LOGS, RETRAIN_REQUESTED)
EXTERNAL_ASSETS = (SCRIPTS,)
"""Assets updated from outside Airflow (a command posts their events), produced by no DAG."""
