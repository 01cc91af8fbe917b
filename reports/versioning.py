"""Report version: a counter kept beside the report files that grows when a quarter's report is
rebuilt with other content (e.g. after a corrected file was loaded).

    <reports root>/<YYYY>Q<n>/<unit>/wersja.json
        {"version": 2, "fingerprint": "<sha256>", "history": [{"version": 1, "fingerprint": …, "generated_at": …}, …]}

The fingerprint is the SHA-256 of the report's content — facts, tables, notes, sign-off — without
the generation time, the version itself and the charts (drawn from the same tables). Rebuilding
with the same content keeps the number; any changed figure, text or source-file version (the
"Jakość danych" section lists every file version that fed the report) makes it +1.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from datetime import date
from pathlib import Path

from reports.formatting import Suppressed, pl_date
from reports.model import Report

VERSION_FILE = "wersja.json"


def _plain(value):
    if isinstance(value, Suppressed):
        return f"suppressed:{int(value.primary)}"
    return str(value)


def fingerprint(report: Report) -> str:
    content = {
        "scope": report.scope, "unit": report.unit_key, "quarter": report.quarter, "title": report.title,
        "sections": [{"id": s.id, "title": s.title,
                      "facts": [(f.label, f.value, f.kind, f.status) for f in s.facts],
                      "tables": [{"id": t.id, "columns": [(c.key, c.label, c.kind) for c in t.columns],
                                  "rows": [{k: v for k, v in sorted(r.items())} for r in t.all_rows]}
                                 for t in s.tables],
                      "notes": s.notes} for s in report.sections],
        "footnotes": report.footnotes,
        "signoff": asdict(report.signoff) if report.signoff else None,
    }
    text = json.dumps(content, default=_plain, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) and isinstance(data.get("version"), int) else {}
    except (OSError, ValueError):
        return {}


def stamp_version(report: Report, folder: Path) -> Report:
    """Set `report.version` from the counter in `folder` (+1 when the content changed) and record it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / VERSION_FILE
    state = _read(path)
    digest = fingerprint(report)
    version = state.get("version", 0)
    history = list(state.get("history", []))
    if state.get("fingerprint") != digest:
        version += 1
        history.append({"version": version, "fingerprint": digest, "generated_at": str(report.generated_at)})
        tmp = folder / f".{VERSION_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"version": version, "fingerprint": digest, "history": history},
                                  ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    first = next((h for h in history if h.get("version") == version), {})
    since = str(first.get("generated_at") or report.generated_at)[:10]
    report.version = version
    report.version_note = f"treść z {pl_date(date.fromisoformat(since))}" if _is_iso(since) else ""
    return report


def _is_iso(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
