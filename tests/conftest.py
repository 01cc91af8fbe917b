"""Shared fixtures: a temporary landing folder, warehouse and Dagster resources."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

TEST_KEY = "test-key-not-secret"
INSTALL_HINT = "run `bash scripts/install.sh` (it installs the Debian packages: chromium, poppler-utils, fonts)"


def require_chromium(path: str = "/usr/bin/chromium") -> None:
    """Fail (never skip) when Debian's Chromium is missing: PDF reports and the UI test need it."""
    if not Path(path).exists():
        pytest.fail(f"Debian's Chromium is not installed ({path}): {INSTALL_HINT}.", pytrace=False)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "cus.duckdb"


@pytest.fixture
def resources(tmp_path: Path, landing: Path, warehouse_path: Path) -> dict:
    from core.resources import LandingResource, PseudonymizerResource, ReportsResource, WarehouseResource

    return {
        "warehouse": WarehouseResource(path=str(warehouse_path)),
        "landing": LandingResource(root=str(landing)),
        "reports": ReportsResource(root=str(tmp_path / "reports")),
        "pseudonymizer": PseudonymizerResource(secret=TEST_KEY),
    }
