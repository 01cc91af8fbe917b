"""Dependencies of the SQL models read from the SQL itself (sqlglot), and their build order.

A model is a `.sql` file of assets/mart/sql or assets/report/sql whose statement is
`CREATE OR REPLACE TABLE <layer>.<file name> AS ...` (the macro files are not models). The tables
a model reads (FROM / JOIN outside its own CTEs) are its dependencies:
- `mart.*` / `report.*` → other models (a model reads its own layer or lower ones only);
- `staging.<dataset>` → the staging asset of that contract dataset;
- the relations prepared before every build (assets/mart/sql_tables.py `prepared_sources`, e.g.
  `src_validation_summary`) → the assets that write what they expose.
Anything else is an error naming the file and the table, as is a cycle between models.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from graphlib import CycleError, TopologicalSorter
from importlib.metadata import version
from pathlib import Path

LAYER_ORDER = ("raw", "staging", "mart", "report")
# Parsing every model costs ~0.5 s (+0.25 s to import sqlglot) in each process that loads the code
# location (every run step): what a file reads is kept by content hash in a cache file; a miss parses.
READS_CACHE = Path(tempfile.gettempdir()) / "cus-sql-model-reads.json"
PARSER_VERSION = 1  # part of the cache key: raise it when _parse changes what it returns


class ModelGraphError(ValueError):
    """The SQL models cannot be ordered: the message names the file, the table and the fix."""


@dataclass(frozen=True)
class ParsedModel:
    layer: str
    name: str
    path: Path
    reads: tuple[str, ...]  # qualified ("mart.dim_unit") or bare prepared names ("registry_units"), sorted


def _parse(path: Path, text: str) -> dict | None:
    """{"layer", "name", "reads"} of the table the SQL creates; None for a file of macros."""
    import sqlglot
    from sqlglot import exp

    def name(table: exp.Table) -> str:
        return f"{table.db}.{table.name}" if table.db else table.name

    try:
        statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as error:
        raise ModelGraphError(f"{path}: sqlglot nie rozumie tego SQL ({str(error).splitlines()[0]}).") from error
    creates = [s for s in statements if isinstance(s, exp.Create) and str(s.args.get("kind", "")).upper() == "TABLE"]
    if not creates:
        return None
    if len(creates) > 1:
        raise ModelGraphError(f"{path}: więcej niż jedno CREATE TABLE — jeden plik = jedna tabela.")
    target = creates[0].this if isinstance(creates[0].this, exp.Table) else creates[0].this.find(exp.Table)
    if target is None or target.db not in ("mart", "report") or target.name != path.stem:
        raise ModelGraphError(f"{path}: plik musi tworzyć tabelę <mart|report>.{path.stem} "
                              f"(tworzy {name(target) if target is not None else '?'}).")
    ctes = {cte.alias for cte in creates[0].find_all(exp.CTE)}
    reads = {name(t) for t in creates[0].find_all(exp.Table)
             if isinstance(t.this, exp.Identifier)  # table functions (generate_series ...) are not relations
             and not (not t.db and t.name in ctes)}
    reads.discard(name(target))
    return {"layer": target.db, "name": target.name, "reads": sorted(reads)}


def _read_cache() -> dict:
    try:
        return json.loads(READS_CACHE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_cache(entries: dict) -> None:
    try:  # atomic replace; a read-only temp folder only costs the parse next time
        handle, tmp = tempfile.mkstemp(dir=READS_CACHE.parent, prefix=READS_CACHE.name)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(entries, out)
        os.replace(tmp, READS_CACHE)
    except OSError:
        pass


@cache
def parse_model(path: Path) -> ParsedModel | None:
    """The model a SQL file builds and the relations it reads; None for a file of macros."""
    text = path.read_text(encoding="utf-8")
    key = hashlib.sha256(f"{PARSER_VERSION}\0{version('sqlglot')}\0{path.stem}\0{text}".encode()).hexdigest()
    entries = _read_cache()
    if key not in entries:
        entries[key] = _parse(path, text)
        _write_cache(entries)
    parsed = entries[key]
    if parsed is None:
        return None
    return ParsedModel(parsed["layer"], parsed["name"], path, tuple(parsed["reads"]))


def models_in(folder: Path) -> list[ParsedModel]:
    return [m for m in (parse_model(p) for p in sorted(folder.glob("*.sql"))) if m is not None]


def resolve_dependencies(models: list[ParsedModel], staging_tables: set[str],
                         prepared: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """{"layer.model": sorted upstream keys ("mart.dim_unit", "staging.expenses", ...)}.

    `staging_tables`: the staging tables with an asset (contract datasets); `prepared`: bare or
    qualified relation name → the upstream keys behind it (e.g. the validation tables → every
    staging dataset)."""
    known = {f"{m.layer}.{m.name}": m for m in models}
    out = {}
    for model in models:
        upstream: set[str] = set()
        for read in model.reads:
            if read in prepared:
                upstream.update(prepared[read])
            elif read in known:
                if LAYER_ORDER.index(read.split(".")[0]) > LAYER_ORDER.index(model.layer):
                    raise ModelGraphError(f"{model.path}: tabela warstwy {model.layer} czyta {read} z wyższej "
                                          "warstwy — przenieś logikę do warstwy report albo odwróć zależność.")
                upstream.add(read)
            elif read.startswith("staging.") and read.split(".", 1)[1] in staging_tables:
                upstream.add(read)
            else:
                raise ModelGraphError(
                    f"{model.path}: nieznana tabela {read!r} — nie jest modelem (plik .sql w assets/mart/sql lub "
                    "assets/report/sql), zbiorem staging z schemas/contract.yaml ani relacją przygotowaną w "
                    "assets/mart/sql_tables.py (prepared_sources). Popraw nazwę albo dodaj brakujący model.")
        out[f"{model.layer}.{model.name}"] = tuple(sorted(upstream))
    return out


def build_order(dependencies: dict[str, tuple[str, ...]], preferred: list[str] | None = None) -> list[str]:
    """Models in an order where every model comes after the models it reads; ties keep `preferred`
    order (then alphabetical), so the order is stable. A cycle is an error naming its tables."""
    graph = {name: [u for u in ups if u in dependencies] for name, ups in dependencies.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        cycle = " → ".join(error.args[1])
        raise ModelGraphError(f"cykl zależności między modelami SQL: {cycle} — tabela nie może (pośrednio) "
                              "czytać samej siebie.") from error
    rank = {name: i for i, name in enumerate(preferred or [])}
    remaining, done, order = dict(graph), set(), []
    while remaining:
        ready = [name for name, ups in remaining.items() if all(u in done for u in ups)]
        chosen = min(ready, key=lambda n: (rank.get(n, len(rank)), n))
        order.append(chosen)
        done.add(chosen)
        del remaining[chosen]
    return order
