"""Dagster resources: the warehouse, the landing area, the reports folder, the pseudonym key.

Paths and the secret come from the environment through `EnvVar` (defaults: config/settings.env); relative paths
are taken from the project folder, so the UI, the CLI and the tests agree where data lives.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from core import warehouse
from core.paths import project_path

DEMO_KEY_PREFIX = "demo-"
REPORTS_PORT_ENV = "CUS_REPORTS_PORT"
DEFAULT_REPORTS_PORT = 3001


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (one writer at a time: writers share the `warehouse` pool)."""

    path: str

    @property
    def file(self) -> Path:
        return project_path(self.path)

    @contextmanager
    def connect(self, read_only: bool = False):
        with warehouse.connect(self.file, read_only=read_only) as conn:
            if not read_only:
                warehouse.ensure_layers(conn)
            yield conn


class LandingResource(dg.ConfigurableResource):
    """Where providers' files land: <root>/<unit>/<YYYY>Q<n>/ and <root>/<unit>/umowa/."""

    root: str

    @property
    def folder(self) -> Path:
        return project_path(self.root)


class ReportsResource(dg.ConfigurableResource):
    """Where report files are written: <root>/<YYYY>Q<n>/<unit>/, and the loopback port on which
    `cus ui` serves that folder over HTTP (the links in the Dagster UI point there)."""

    root: str
    port: int | None = None  # None: CUS_REPORTS_PORT as set by `cus ui --reports-port`, else 3001

    @property
    def folder(self) -> Path:
        return project_path(self.root)

    @property
    def base_url(self) -> str:
        # Read at run time, not from .env: `dagster dev` lets .env override the environment that
        # `cus ui` passes, so the port lives only in the environment of the UI's processes.
        port = self.port if self.port is not None else int(os.environ.get(REPORTS_PORT_ENV) or DEFAULT_REPORTS_PORT)
        return f"http://127.0.0.1:{port}"


class PseudonymizerResource(dg.ConfigurableResource):
    """The secret key of the PESEL pseudonyms (HMAC-SHA256). Never logged."""

    secret: str

    @property
    def key(self) -> bytes:
        if not self.secret:
            raise ValueError("Brak klucza pseudonimizacji: ustaw zmienną środowiskową CUS_PSEUDONYM_KEY.")
        return self.secret.encode("utf-8")

    @property
    def is_demo(self) -> bool:
        from core.settings import DEMO_PSEUDONYM_KEY

        return self.secret == DEMO_PSEUDONYM_KEY


class PublishedResource(dg.ConfigurableResource):
    """Read-only copies of the warehouse for ad hoc SQL: <root>/cus_<time>.duckdb, <root>/current.duckdb."""

    root: str

    @property
    def folder(self) -> Path:
        return project_path(self.root)
