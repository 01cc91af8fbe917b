"""Report settings: defaults from reports/config.yaml, overridable by run config."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CONFIG_PATH = Path(__file__).parent / "config.yaml"


@dataclass(frozen=True)
class ReportSettings:
    suppression_threshold: int = 5
    suppress_in_unit_reports: bool = True
    # Areas of the Act whose person counts are sensitive (config.yaml suppression.sensitive_service_areas).
    sensitive_service_areas: tuple[int, ...] = (6, 12)
    pdf_timeout_seconds: float = 120  # one page: load, charts drawn, printed
    pdf_parallel_pages: int = 2  # pages of the one browser printed at once (config.yaml pdf.parallel_pages)

    def __post_init__(self):
        if self.suppression_threshold < 1:
            raise ValueError("Próg ukrywania małych liczebności musi być dodatni.")


@lru_cache(maxsize=1)
def default_settings() -> ReportSettings:
    raw = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8")) or {}
    suppression, pdf = raw.get("suppression", {}), raw.get("pdf", {})
    return ReportSettings(
        suppression_threshold=int(suppression.get("threshold", 5)),
        suppress_in_unit_reports=bool(suppression.get("in_unit_reports", True)),
        sensitive_service_areas=tuple(int(a) for a in suppression.get("sensitive_service_areas", (6, 12)) or ()),
        pdf_timeout_seconds=float(pdf.get("timeout_seconds", 120)),
        pdf_parallel_pages=int(pdf.get("parallel_pages", 2)),
    )
