"""The environment dbt, Feast, BentoML and Airflow's own CLIs need for one source and profile.

``reelops env`` prints it as shell ``export`` lines. Each tool's part comes from the module
that already sets it for the platform's own runs (:func:`reelops.warehouse.dbt_environ`,
:func:`reelops.features.environment.feast_environ`, :func:`reelops.config.airflow_environ`),
so a person at a shell and a DAG task see the same warehouse, feature store and model store.
"""

from __future__ import annotations

from pathlib import Path

from reelops.config import Settings, airflow_environ
from reelops.features.environment import REPO_DIR, feast_environ, store_yaml
from reelops.warehouse import dbt_environ, dbt_run_dir


class EnvironmentConflictError(RuntimeError):
    """Two tools' environments give one variable different values."""


def shell_dbt_dir(settings: Settings, source: str) -> Path:
    """Where dbt run by hand keeps its target, logs and any marts it writes.

    Apart from the platform's own build folder, so a hand-run ``dbt ls`` never replaces
    the manifest whose hash training runs record, and a hand-run ``dbt run`` never
    rewrites the published marts that Feast and training read.
    """
    return dbt_run_dir(settings, source) / "shell"


def base_environ(settings: Settings) -> dict[str, str]:
    """What holds for every source: the home, the profile, BentoML's and Airflow's homes."""
    return {
        **airflow_environ(settings),
        "REELOPS_HOME": str(settings.home),
        "REELOPS_PROFILE": settings.profile,
        # The model store the registry writes; BentoML's default would be ~/bentoml.
        "BENTOML_HOME": str(settings.bentoml_home),
        "BENTOML_DO_NOT_TRACK": "True",
        # Feast's CLI imports matplotlib, whose font cache would otherwise go to ~/.cache.
        "MPLCONFIGDIR": str(settings.home / "cache" / "matplotlib"),
    }


def source_environ(settings: Settings, source: str) -> dict[str, str]:
    """dbt's and Feast's variables for one source, for their CLIs run from any folder."""
    shell_dir = shell_dbt_dir(settings, source)
    dbt = {
        **dbt_environ(settings, source),
        "DBT_PROJECT_DIR": str(settings.dbt_project_dir),
        "DBT_PROFILES_DIR": str(settings.dbt_project_dir),
        "DBT_TARGET_PATH": str(shell_dir / "target"),
        "DBT_LOG_PATH": str(shell_dir / "logs"),
        "REELOPS_DBT_MARTS_DIR": str(shell_dir / "marts"),
    }
    feast = {
        **feast_environ(settings, source),
        "FEAST_FS_YAML_FILE_PATH": str(store_yaml(settings)),
        # Feast's own name for its --chdir default: `feast` works from any folder.
        "FEATURE_REPO_DIR_ENV_VAR": str(REPO_DIR),
    }
    return merge_environ(dbt, feast)


def tools_environ(settings: Settings, source: str | None) -> dict[str, str]:
    """Every variable the tools' CLIs need; without a source, only the source-free part.

    Raises:
        EnvironmentConflictError: two tools would need one variable set differently.
    """
    base = base_environ(settings)
    if source is None:
        return base
    return merge_environ(base, source_environ(settings, source))


def merge_environ(*parts: dict[str, str]) -> dict[str, str]:
    """One environment from several tools' parts that must agree where they overlap.

    Raises:
        EnvironmentConflictError: a variable has two different values; names it.
    """
    merged: dict[str, str] = {}
    for part in parts:
        for name, value in part.items():
            if merged.get(name, value) != value:
                raise EnvironmentConflictError(
                    f"{name} would be both {merged[name]!r} and {value!r}; "
                    "the tools' environments must agree"
                )
            merged[name] = value
    return merged
