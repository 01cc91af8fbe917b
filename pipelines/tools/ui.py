"""`cus ui`: `dagster dev` on this project, with the reports folder served on loopback for the report links.

Dagster loads a `.env` of its working folder OVER the environment, so it starts in DAGSTER_HOME (no .env
there): the settings it sees are exactly the environment (+ config/settings.env defaults) — the environment
wins (docs/settlement.md, "Settings and the pseudonym key"). The key checks run before, in the CLI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from assets.staging.validation_service import ServiceError, start_service
from core.paths import PROJECT_ROOT, project_path
from core.resources import DEFAULT_REPORTS_PORT, REPORTS_PORT_ENV


class UiError(Exception):
    """The UI cannot start (Polish message: what to change)."""


def _validation_service() -> dict[str, str]:
    """Great Expectations imported once for every run the daemon launches (a run's process otherwise
    imports it again: ~1,3 s of a correction's batch step); it ends with this process. Without it each
    run starts its own worker, as `cus run` does."""
    try:
        return start_service()
    except ServiceError as error:
        print(f"Uwaga: {error} — każdy przebieg zaimportuje Great Expectations sam (wolniej o ~1–2 s).")
        return {}


def run_ui(host: str, port: int, reports_port: int | None) -> int:
    """Start the report server and `dagster dev`; both stop together. Returns dagster dev's exit status."""
    from pipelines.tools import report_server

    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    reports_port = reports_port if reports_port is not None else int(os.environ.get(REPORTS_PORT_ENV)
                                                                      or DEFAULT_REPORTS_PORT)
    reports_root = project_path(os.environ["CUS_REPORTS"])
    try:
        server = report_server.start_report_server(reports_root, reports_port)
    except OSError as error:
        raise UiError(f"Nie można udostępnić raportów na porcie {reports_port} ({error.strerror}): podaj inny port, "
                      "np. cus ui --reports-port 3002.") from error
    print(f"Raporty ({reports_root}) pod adresem {server.url}/ — odnośniki w interfejsie Dagster prowadzą tutaj.")
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, REPORTS_PORT_ENV: str(reports_port), **_validation_service()}
    try:
        process = subprocess.Popen([str(dagster), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", host,
                                    "-p", str(port)], cwd=home, env=env)
        # `kill <pid of cus ui>` stops dagster dev too (Ctrl+C reaches both through the terminal).
        signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:  # wait for dagster dev to shut down its processes
                continue
    finally:
        server.stop()
