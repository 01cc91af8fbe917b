"""Staging assets `staging/<dataset>`: validate the raw partition, keep accepted rows, quarantine the rest.

One asset per contract dataset, partitioned like its raw asset. Each run reads the partition from
raw.<dataset>, types it, runs the Great Expectations suite (schemas/validation/) on the frame and
writes, in ONE transaction, the accepted rows to staging.<dataset>, rejected/warned cells to
staging.quarantine and the counts to staging.validation_summary. Every rule is an asset check
(name = the rule's Polish `check_name`) with the counts and a few failing examples (row, column, value — never personal data).
"""

from datetime import date

import dagster as dg
import polars as pl

from assets.partition_keys import unit_and_quarter, unit_quarter_key
from assets.preview import markdown_preview
from assets.raw.ingest import ensure_raw_tables
from assets.staging.rules import Rule, rules_for
from assets.staging.typed import ensure_staging_tables
from assets.staging.validate import Validation, validate_partition
from core.contract import Dataset, load_contract
from core.models import validation_polars_schema, validation_tables_ddl
from core.registry import Unit, load_units
from core.resources import WarehouseResource
from core.warehouse import (
    WAREHOUSE_POOL,
    delete_insert,
    identifier,
    query_frame,
    table_exists,
    transaction,
)
from reports.formatting import count

SUMMARY_SCHEMA = validation_polars_schema("validation_summary")  # schemas/warehouse/staging.yaml

# Extra upstream staging assets: (dataset, upstream dataset). Quarter -> agreement uses the unit dimension.
STAGING_DEPENDENCIES = {
    "deliveries": ["participants", "services"],  # participant exists; service code in the catalogue
    "expenses": ["budget"],  # task number in the budget (warning)
}


def ensure_validation_tables(conn) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS staging")
    conn.execute(validation_tables_ddl())


def load_references(conn, rules: list[Rule], unit: str, quarter: str | None) -> dict[str, list]:
    """Values of other partitions the rules compare with (staging tables: accepted rows only)."""
    return load_references_many(conn, rules, [(unit, quarter)])[(unit, quarter)]


IN_SCOPE = {
    "unit": lambda other, quarter: True,
    "up_to_quarter": lambda other, quarter: other is not None and quarter is not None and other <= quarter,
    "other_quarters": lambda other, quarter: other != quarter,
}


def load_references_many(conn, rules: list[Rule], keys: list[tuple[str, str | None]]) -> dict[tuple, dict[str, list]]:
    """The reference lists of many partitions (a batch): one query per reference, the scope applied
    per partition — every list read at the same moment."""
    if not keys:
        return {}
    contract = load_contract()
    out: dict[tuple, dict[str, list]] = {key: {} for key in keys}
    units = sorted({unit for unit, _ in keys})
    for rule in rules:
        for ref in rule.references:
            name, column = ref["dataset"], ref["column"]
            columns = column if isinstance(column, list) else [column]
            for one in columns:
                contract[name].column(one)  # an unknown column is a rule-file error
            if ref["scope"] not in IN_SCOPE:
                raise ValueError(f"{rule.id}: nieznany zakres odniesienia {ref['scope']!r}")
            table = identifier(name)
            col = (identifier(column) if not isinstance(column, list)
                   else " || '/' || ".join(f"CAST({identifier(one)} AS VARCHAR)" for one in columns))
            rows = [] if not table_exists(conn, "staging", table) else conn.execute(
                f"SELECT DISTINCT unit, quarter, {col} FROM staging.{table} WHERE list_contains(?, unit) "
                f"AND {col} IS NOT NULL", [units]).fetchall()
            by_unit: dict[str, list[tuple]] = {}
            for unit, quarter, value in rows:
                by_unit.setdefault(unit, []).append((quarter, value))
            in_scope = IN_SCOPE[ref["scope"]]
            for unit, quarter in keys:
                out[(unit, quarter)][ref["parameter"]] = sorted(
                    {value for other, value in by_unit.get(unit, []) if in_scope(other, quarter)})
    return out


def write_validation(conn, dataset: Dataset, unit: str, quarter: str | None, result: Validation) -> None:
    """Accepted rows, quarantine and summary of the partition: delete-then-insert, all or nothing."""
    where = {"unit": unit, "quarter": quarter}
    summary = pl.DataFrame([result.summary], schema=SUMMARY_SCHEMA)
    with transaction(conn):
        if not result.refused:
            delete_insert(conn, "staging", dataset.name, result.accepted, where)
        delete_insert(conn, "staging", "quarantine", result.quarantine, {**where, "dataset": dataset.name})
        delete_insert(conn, "staging", "validation_summary", summary, {**where, "dataset": dataset.name})


def _examples_markdown(examples: list[dict]) -> str:
    lines = ["| wiersz | kolumna | wartość | komunikat |", "|---|---|---|---|"]
    for example in examples:
        value = example["wartość"]
        shown = "(ukryta)" if value is None else str(value).replace("|", "\\|")[:60]
        message = str(example.get("komunikat") or "").replace("|", "\\|")[:200]
        lines.append(f"| {example['wiersz'] if example['wiersz'] is not None else 'cały plik'} | "
                     f"{example['kolumna']} | {shown} | {message} |")
    return "\n".join(lines)


def check_summary(result: Validation, item) -> str:
    """Polish summary of one rule on one partition: file, failing rows, the first row's column and message."""
    rule = item.rule
    if item.passed:
        return rule.title
    file = result.summary.get("source_file") or "—"
    where = f"{result.summary.get('unit')} {result.summary.get('quarter') or 'umowa'}"
    text = f"{rule.title}: {count(item.failing_rows, 'wiersz', 'wiersze', 'wierszy')} z błędem — {where}, plik {file}."
    if item.examples:
        first = item.examples[0]
        value = "(ukryta)" if first["wartość"] is None else f"„{str(first['wartość'])[:60]}”"
        row = first["wiersz"] if first["wiersz"] is not None else "cały plik"
        text += f" Np. wiersz {row}, kolumna „{first['kolumna']}”, wartość {value}: {first.get('komunikat') or ''}"
    return text


def check_results(result: Validation) -> list[dg.AssetCheckResult]:
    out = []
    for item in result.results:
        rule = item.rule
        metadata = {
            "wiersze z błędem": item.failing_rows,
            "sprawdzone wiersze": item.checked_rows,
            "ważność": "błąd (kwarantanna)" if rule.severity == "error" else "ostrzeżenie (wiersz przyjęty)",
        }
        if item.examples:
            metadata["przykłady"] = dg.MetadataValue.md(_examples_markdown(item.examples))
        if item.observed is not None:
            metadata["wartość obserwowana"] = str(item.observed)
        severity = dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN
        out.append(dg.AssetCheckResult(check_name=rule.check_name, passed=item.passed, severity=severity,
                                       metadata=metadata, description=check_summary(result, item)))
    return out


def staging_metadata(result: Validation, rows_preview: str | None) -> dict:
    """Materialization metadata of one validated partition; a partition with rejected rows says so first."""
    summary = result.summary
    by_rule = (result.quarantine.group_by("rule", "severity").agg(pl.col("row_number").n_unique().alias("n"))
               if result.quarantine.height else  # most partitions of a batch: nothing to count
               pl.DataFrame(schema={"rule": pl.Utf8, "severity": pl.Utf8, "n": pl.UInt32}))
    metadata = {"status": partition_status(result)}
    metadata.update({
        "dagster/row_count": summary["accepted"],
        "plik": summary["source_file"],
        "sha256": summary["file_sha256"],
        "wiersze w pliku": summary["received"],
        "przyjęte": summary["accepted"],
        "odrzucone (kwarantanna)": summary["quarantined"],
        "z ostrzeżeniem": summary["warnings"],
        "odrzucone wg reguły": dg.MetadataValue.json(
            {r["rule"]: r["n"] for r in by_rule.filter(pl.col("severity") == "error").iter_rows(named=True)}),
    })
    if by_rule.height:
        lines = ["| reguła | ważność | wiersze |", "|---|---|---|"] + [
            f"| {r['rule']} | {'błąd' if r['severity'] == 'error' else 'ostrzeżenie'} | {r['n']} |"
            for r in by_rule.sort("severity", "n", descending=[False, True]).iter_rows(named=True)]
        metadata["kwarantanna (podgląd)"] = dg.MetadataValue.md("\n".join(lines))
    if rows_preview:
        metadata["podgląd (przyjęte wiersze)"] = dg.MetadataValue.md(rows_preview)
    return metadata


def partition_status(result: Validation) -> str:
    """One line a coordinator reads first: accepted, rows rejected, or the whole file refused."""
    summary = result.summary
    if result.refused:
        return "PLIK ODRZUCONY — reguła blokująca niespełniona; obowiązują dotychczasowe dane"
    if summary["quarantined"]:
        return f"BŁĘDY — {summary['quarantined']} z {summary['received']} wierszy w kwarantannie (staging.quarantine)"
    if summary["warnings"]:
        return f"przyjęto, {count(summary['warnings'], 'wiersz', 'wiersze', 'wierszy')} z ostrzeżeniem"
    return "przyjęto wszystkie wiersze"


def _description(dataset: Dataset) -> str:
    return (
        f"{dataset.title} — dane zweryfikowane: wiersze z raw.{dataset.name} po nadaniu typów (daty, kwoty, "
        "kody) i sprawdzeniu regułami walidacji (schemas/validation/). Wiersze z błędami trafiają do "
        "staging.quarantine z komunikatem dla dostawcy danych, liczniki do staging.validation_summary. "
        "Każda reguła jest osobnym sprawdzeniem tej partycji (nazwa sprawdzenia mówi, co musi być prawdą)."
    )


def build_staging_asset(dataset: Dataset, partitions_def: dg.PartitionsDefinition,
                        agreement_partitions: dg.PartitionsDefinition | None,
                        units: tuple[Unit, ...] | None = None) -> dg.AssetsDefinition:
    rules = rules_for(dataset)
    key = dg.AssetKey(["staging", dataset.name])
    contract = load_contract()
    deps = [dg.AssetDep(dg.AssetKey(["raw", dataset.name]))]
    for upstream in STAGING_DEPENDENCIES.get(dataset.name, []):
        mapping = None
        if contract[upstream].level == "agreement" and dataset.level == "quarter":
            mapping = dg.StaticPartitionMapping({u.key: [unit_quarter_key(u.key, q) for q in u.quarters]
                                                 for u in (units or load_units())})
        deps.append(dg.AssetDep(dg.AssetKey(["staging", upstream]), partition_mapping=mapping))
    specs = [dg.AssetCheckSpec(rule.check_name, asset=key, description=rule.check_description, blocking=rule.blocking,
                               partitions_def=partitions_def)
             for rule in rules]

    @dg.asset(
        key=key,
        group_name="staging",
        partitions_def=partitions_def,
        deps=deps,
        check_specs=specs,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "polars"},
        description=_description(dataset),
        tags={"layer": "staging", "level": dataset.level},
    )
    def _staging(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        unit_key, quarter = unit_and_quarter(context)
        registry = {u.key: u for u in (units or load_units())}
        if unit_key not in registry:
            raise dg.Failure(description=f"Nieznana jednostka {unit_key!r}: brak w rejestrze jednostek.")
        with warehouse.connect() as conn:
            ensure_raw_tables(conn, [dataset])
            ensure_staging_tables(conn, [dataset])
            ensure_validation_tables(conn)
            raw = query_frame(conn, f"SELECT * FROM raw.{identifier(dataset.name)} "
                                    "WHERE unit = ? AND quarter IS NOT DISTINCT FROM ? ORDER BY row_number",
                              [unit_key, quarter])
            if raw.height == 0:
                context.log.info("Brak danych surowych tej partycji (plik nie został przesłany): staging bez zmian.")
                yield dg.MaterializeResult(metadata={"plik": "brak pliku — dane bez zmian", "dagster/row_count": 0})
                for rule in rules:
                    yield dg.AssetCheckResult(check_name=rule.check_name, passed=True, description="Brak pliku — nic do sprawdzenia.",
                                              metadata={"sprawdzone wiersze": 0})
                return
            references = load_references(conn, rules, unit_key, quarter)
            result = validate_partition(dataset, raw, registry[unit_key], quarter, references, today=date.today())
            write_validation(conn, dataset, unit_key, quarter, result)
            rows_preview = markdown_preview(conn, "staging", dataset.name, {"unit": unit_key, "quarter": quarter},
                                            order_by="row_number")
        metadata = staging_metadata(result, rows_preview)
        if result.refused:
            metadata["plik odrzucony"] = "reguła blokująca niespełniona — obowiązują dotychczasowe dane"
            context.log.error(f"Plik {result.summary['source_file']} odrzucony przez regułę blokującą; "
                              "staging tej partycji bez zmian.")
        yield dg.MaterializeResult(metadata=metadata)
        yield from check_results(result)

    return _staging


def build_staging_assets(unit_quarter: dg.PartitionsDefinition, unit: dg.PartitionsDefinition,
                         units: tuple[Unit, ...] | None = None) -> list[dg.AssetsDefinition]:
    return [
        build_staging_asset(dataset, unit_quarter if dataset.level == "quarter" else unit, unit, units)
        for dataset in load_contract().values()
    ]
