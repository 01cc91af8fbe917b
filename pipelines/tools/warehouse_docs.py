"""The tables section of docs/warehouse.md, generated from schemas/warehouse/*.yaml and the SQL.

    python -m pipelines.tools.warehouse_docs           # exit 1 when the section is stale
    python -m pipelines.tools.warehouse_docs --write   # rewrite the section between the markers

Only the block between BEGIN/END markers is generated (tables, grain, description, the tables
each model reads according to its SQL, checks, columns); the narrative around it is written by
hand. tests/test_sql_models.py fails while the block is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.models import TableDoc, layer_tables
from core.paths import PROJECT_ROOT

DOCS_PATH = PROJECT_ROOT / "docs" / "warehouse.md"
BEGIN = "<!-- BEGIN GENERATED: warehouse tables (python -m pipelines.tools.warehouse_docs --write) -->"
END = "<!-- END GENERATED: warehouse tables -->"
REGENERATE = "python -m pipelines.tools.warehouse_docs --write"
LAYER_TITLES = {
    "raw": "raw — wersje plików",
    "staging": "staging — wyniki walidacji",
    "mart": "mart — fakty i wymiary (assets/mart/sql/)",
    "report": "report — tabele raportu (assets/report/sql/)",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _layer_section(layer: str, tables: tuple[TableDoc, ...], reads: dict[str, tuple[str, ...]]) -> list[str]:
    lines = [f"### {LAYER_TITLES[layer]}", ""]
    with_reads = layer in ("mart", "report")
    header = "| tabela | jeden wiersz | opis |" + (" czyta (z SQL) |" if with_reads else "")
    lines += [header, "|---|---|---|" + ("---|" if with_reads else "")]
    for t in tables:
        row = f"| `{t.qualified}` | {_cell(t.grain)} | {_cell(t.description)} |"
        if with_reads:
            row += " " + (", ".join(f"`{r}`" for r in reads.get(t.qualified, ())) or "—") + " |"
        lines.append(row)
    lines.append("")
    for t in tables:
        lines += [f"#### `{t.qualified}`", ""]
        if t.checks:
            lines += ["Sprawdzenia: " + "; ".join(
                f"`{c.name}` ({'blokujące' if c.blocking else 'ostrzeżenie'}) — {_cell(c.description)}"
                for c in t.checks), ""]
        typed = any(c.type for c in t.columns)
        lines += ["| kolumna | typ | opis |" if typed else "| kolumna | opis |",
                  "|---|---|---|" if typed else "|---|---|"]
        for c in t.columns:
            type_cell = f" {c.type}{' NOT NULL' if c.not_null else ''} |" if typed else ""
            lines.append(f"| `{c.name}` |{type_cell} {_cell(c.description)} |")
        lines.append("")
    return lines


def render(reads: dict[str, tuple[str, ...]] | None = None) -> str:
    """The generated block, markers included. `reads`: {"mart.x": upstream tables} (default: from the SQL)."""
    if reads is None:
        from assets.mart.sql_tables import model_dependencies

        reads = model_dependencies()
    lines = [BEGIN, "", f"Generowane z `schemas/warehouse/*.yaml` i plików SQL (`{REGENERATE}`); "
             "nie edytuj ręcznie — zmień opis w pliku YAML.", ""]
    for layer in ("raw", "staging", "mart", "report"):
        lines += _layer_section(layer, layer_tables(layer), reads)
    return "\n".join(lines).rstrip() + "\n\n" + END


def current_block(markdown: str) -> str | None:
    start, end = markdown.find(BEGIN), markdown.find(END)
    if start < 0 or end < start:
        return None
    return markdown[start:end + len(END)]


def write(path: Path = DOCS_PATH) -> bool:
    """Replace the generated block (it must exist, markers included); True when the file changed."""
    text = path.read_text(encoding="utf-8")
    block = current_block(text)
    if block is None:
        raise SystemExit(f"{path}: brak znaczników {BEGIN!r} … {END!r} — wstaw je tam, gdzie ma być lista tabel.")
    new = text.replace(block, render())
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lista tabel w docs/warehouse.md z schemas/warehouse/*.yaml")
    parser.add_argument("--write", action="store_true", help="przepisz wygenerowaną sekcję")
    args = parser.parse_args(argv)
    if args.write:
        print("docs/warehouse.md: zaktualizowano" if write() else "docs/warehouse.md: bez zmian")
        return 0
    stale = current_block(DOCS_PATH.read_text(encoding="utf-8")) != render()
    print(f"docs/warehouse.md: nieaktualna lista tabel — uruchom {REGENERATE}" if stale else "docs/warehouse.md: aktualna")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
