"""Shared fixtures: a temporary landing folder, warehouse and Dagster resources."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

TEST_KEY = "test-key-not-secret"
INSTALL_HINT = "run `bash scripts/install.sh` (it installs the Debian packages: chromium, poppler-utils, fonts)"


def small_sample(root: Path, keep: dict[str, list[str]]) -> Path:
    """Sample data at scale 0.05 under `root` (landing/ and resent/) with only the units and folders
    (`umowa`, quarters) of `keep`; returns `root`."""
    import shutil

    from pipelines.tools.sample_data import generate

    generate(root / "landing", seed=2028, scale=0.05, resent_dir=root / "resent")
    for unit_dir in (root / "landing").iterdir():
        for folder in unit_dir.iterdir():
            if folder.name not in keep.get(unit_dir.name, []):
                shutil.rmtree(folder)
        if not any(unit_dir.iterdir()):
            unit_dir.rmdir()
    return root


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
