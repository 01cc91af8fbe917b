"""Project folders, resolved from this file (never from the current working directory)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_LANDING_DIR = DATA_DIR / "landing"
DEFAULT_WAREHOUSE_PATH = DATA_DIR / "warehouse" / "cus.duckdb"
DEFAULT_REPORTS_DIR = DATA_DIR / "reports"
DEFAULT_PUBLISHED_DIR = DATA_DIR / "published"
