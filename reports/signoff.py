"""The sign-off block of the title page: prepared by, approved by, dates.

From the quarter's opis_postepu file (rows "Sporządził(a)" / "Zatwierdził(a)" with "Data";
mart.narrative) when the unit sent one; otherwise from reports/config.yaml `signoff` (per unit or
the defaults). The consolidated report takes only the configuration (units: {zbiorczy: …}).
A missing name leaves a line to sign by hand.
"""

from __future__ import annotations

from functools import lru_cache

import yaml

from reports.model import SignOff
from reports.settings import CONFIG_PATH

FROM_FILE = "opis postępu jednostki (opis_postepu) za kwartał"
FROM_CONFIG = "konfiguracja raportów (reports/config.yaml)"


@lru_cache(maxsize=1)
def configured() -> dict:
    raw = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8")) or {}
    return raw.get("signoff") or {}


def _text(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def resolve_signoff(report_key: str, narrative: list[dict], config: dict | None = None) -> SignOff:
    """report_key: unit key or "zbiorczy"; narrative: that unit's rows of the read `narrative` (reports/readers.py)."""
    config = configured() if config is None else config
    own = (config.get("units") or {}).get(report_key) or {}
    signoff = SignOff(prepared_by=_text(own.get("prepared_by", config.get("prepared_by"))),
                      approved_by=_text(own.get("approved_by", config.get("approved_by"))), source=FROM_CONFIG)
    rows = {r.get("part"): r for r in narrative if r.get("part") in ("prepared_by", "approved_by")}
    if rows:
        signoff.source = FROM_FILE
    if "prepared_by" in rows:
        signoff.prepared_by = _text(rows["prepared_by"].get("narrative_text"))
        signoff.prepared_on = rows["prepared_by"].get("signed_on")
    if "approved_by" in rows:
        signoff.approved_by = _text(rows["approved_by"].get("narrative_text"))
        signoff.approved_on = rows["approved_by"].get("signed_on")
    return signoff
