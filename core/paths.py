"""Project folders, resolved from this file (never from the current working directory), and the
one rule for configured paths: relative paths are taken from the project folder."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_LANDING_DIR = DATA_DIR / "landing"
DEFAULT_WAREHOUSE_PATH = DATA_DIR / "warehouse" / "cus.duckdb"
DEFAULT_REPORTS_DIR = DATA_DIR / "reports"
DEFAULT_PUBLISHED_DIR = DATA_DIR / "published"


def project_path(path: str | Path) -> Path:
    """A configured path (resource, environment variable, CLI option): absolute as given, relative
    to the project folder, so the UI, the CLI and the tests agree where data lives."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def published_dir(configured: str | Path | None = None) -> Path:
    """The folder of the published SQL copies: `configured`, else CUS_PUBLISHED, else data/published."""
    return project_path(configured or os.environ.get("CUS_PUBLISHED") or DEFAULT_PUBLISHED_DIR)
