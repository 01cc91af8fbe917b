"""Browser test of the coordinators' UI: the Dagster webserver on loopback, driven by Debian's Chromium.

The webserver is started on a free port with a temporary DAGSTER_HOME and warehouse, the asset
catalog and a partitioned asset's page are opened in headless Chromium (Playwright with
`executable_path=/usr/bin/chromium`, never a downloaded browser), and the server is stopped by PID.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import require_chromium

from core.paths import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# DAGSTER_HOME and data folder of the running webserver (tests write runs into that instance).
SERVER: dict[str, Path] = {}



@pytest.fixture(autouse=True)
def chromium_installed():
    """No silent skip: without Debian's Chromium these tests fail and say how to install it."""
    require_chromium(CHROMIUM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and its code-server children by process group (SIGTERM may be ignored)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(PROJECT_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    data = tmp_path_factory.mktemp("data")
    SERVER.update(home=home, data=data)
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "CUS_WAREHOUSE": str(data / "cus.duckdb"),
           "CUS_LANDING": str(data / "landing"), "CUS_REPORTS": str(data / "reports"),
           "CUS_PUBLISHED": str(data / "published"), "CUS_PSEUDONYM_KEY": "test-key-not-secret",
           "DAGSTER_DISABLE_TELEMETRY": "1"}
    webserver_bin = Path(sys.executable).with_name("dagster-webserver")
    log = open(data / "webserver.log", "wb")  # noqa: SIM115 (closed when the server stops)
    process = subprocess.Popen(
        [str(webserver_bin), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="module")
def page(webserver, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 8000})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def test_asset_catalog_lists_every_layer(webserver, page):
    page.goto(f"{webserver}/assets?view=flat")
    page.get_by_text("raw / expenses", exact=False).first.wait_for()
    text = page.inner_text("body")
    for key in ("raw / participants", "raw / expenses", "raw / budget", "staging / expenses", "mart / fact_expense",
                "report / indicators", "report / quarterly_reports"):
        assert key in text, f"{key} missing from the asset catalog"
    assert "Zestawienie dokumentów księgowych" in text  # the Polish description coordinators read


def test_partitioned_asset_page_shows_units_and_quarters(webserver, page):
    page.goto(f"{webserver}/assets/raw/expenses?view=partitions")
    page.get_by_text("srokowo", exact=False).first.wait_for()
    text = page.inner_text("body")
    # one partition per valid unit × quarter, keys that read as such (`starachowice|2020Q4`), no date keys
    assert re.search(r"(elblag|myslenice|starachowice|srokowo)\|20\d\dQ[1-4]", text)
    assert "2020-10-01" not in text
    for unit in ("elblag", "myslenice", "starachowice", "srokowo"):
        assert unit in text, f"unit {unit} missing from the partitions view"


def test_landing_sensor_and_report_schedule_listed(webserver, page):
    page.goto(f"{webserver}/automation")
    page.get_by_text("landing_sensor", exact=False).first.wait_for()
    text = page.inner_text("body")
    assert "landing_sensor" in text
    assert "quarterly_reports_schedule" in text


def test_status_grid_shows_on_the_status_asset_page(webserver, page, monkeypatch):
    """Issue 13: the coordinator finds report/status and its grid (units × quarters, Polish words)."""
    import dagster as dg

    from assets.report.status_asset import build_status_asset
    from core.resources import ReportsResource, WarehouseResource

    monkeypatch.setenv("DAGSTER_HOME", str(SERVER["home"]))  # the project's event log lives under DAGSTER_HOME
    instance = dg.DagsterInstance.from_config(str(SERVER["home"]))
    result = dg.materialize([build_status_asset()], instance=instance,
                            resources={"warehouse": WarehouseResource(path=str(SERVER["data"] / "cus.duckdb")),
                                       "reports": ReportsResource(root=str(SERVER["data"] / "reports"))})
    assert result.success
    page.goto(f"{webserver}/assets/report/status")
    page.get_by_text("stan jednostek i kwartałów", exact=False).first.wait_for()
    assert "aktualny_stan" in page.inner_text("body")  # the group it is listed in
    # The grid is the first Markdown value of the latest materialization (the UI opens it in a dialog).
    # The UI's own "Join the Dagster community" dialog may cover the page: the click goes straight to the link.
    page.get_by_text("[Show Markdown]", exact=False).first.dispatch_event("click")
    grid = page.get_by_role("dialog").filter(has_text="Legenda")
    grid.get_by_text("Elbląskie Centrum Usług Społecznych").first.wait_for()
    dialog = grid.inner_text()
    page.screenshot(path=str(SERVER["data"] / "status.png"))
    assert "jednostka" in dialog and "2020Q4" in dialog and "2023Q3" in dialog
    for name in ("Elbląskie Centrum Usług Społecznych", "Centrum Usług Społecznych w Myślenicach",
                 "Centrum Usług Społecznych w Starachowicach", "Centrum Usług Społecznych w Srokowie"):
        assert name in dialog
    assert "✗ brak" in dialog and "Legenda" in dialog and "nie dotyczy" in dialog
