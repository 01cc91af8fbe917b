"""Process settings for the CLI and scripts: `.env` defaults and the project DAGSTER_HOME.

Called at the start of a command (never at import time), so tests and deployments can set
their own environment first: a variable already set always wins over `.env`.
"""

from __future__ import annotations

import os

from core.paths import PROJECT_ROOT

ENV_FILE = PROJECT_ROOT / ".env"
DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"


def read_env_file(path=ENV_FILE) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def apply_defaults() -> None:
    for name, value in read_env_file().items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DAGSTER_HOME", str(DAGSTER_HOME))
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
