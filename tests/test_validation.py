"""Validation as plain functions: rule files, computed rules, one partition, check results, file checks,
and the staging asset definitions."""

import re
from datetime import date, datetime
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest
from validation_fixtures import PESEL_A, expense, folder, participant, write_expenses, write_participants_xlsx

from assets.raw.landing_file import LandingFileError, read_landing_file
from assets.staging.computed_rules import COMPUTE
from assets.staging.file_checks import check_landing_file, file_checks
from assets.staging.rules import dataset_rules, rules_for
from assets.staging.staging_assets import build_staging_assets, check_results, check_summary
from assets.staging.validate import money_pl, validate_partition
from core.contract import dataset, load_contract
from core.registry import load_units, unit_by_key
from pipelines.partitions import unit_partitions, unit_quarter_partitions

ELBLAG = unit_by_key("elblag")
CHECKED_AT = datetime(2021, 10, 5, 8, 0)


def raw_frame(name: str, rows: list[dict], quarter: str | None = "2021Q3") -> pl.DataFrame:
    """A raw partition as the raw layer stores it: lineage + text cells."""
    ds = dataset(name)
    columns = [c.name for c in ds.stored_columns if c.pii is None]
    data = {c: [r.get(c) for r in rows] for c in columns}
    frame = pl.DataFrame(data, schema={c: pl.Utf8 for c in columns})
    return frame.with_columns(
        pl.lit("elblag").alias("unit"), pl.lit(quarter, dtype=pl.Utf8).alias("quarter"),
        pl.lit(f"elblag/{quarter or 'umowa'}/{ds.file}.csv").alias("source_file"),
        pl.lit("ab" * 32).alias("file_sha256"), pl.Series("row_number", range(2, len(rows) + 2), dtype=pl.Int64),
        pl.lit(CHECKED_AT).alias("loaded_at"),
    )


def test_every_dataset_has_rules_with_polish_check_names_and_polish_only_descriptions():
    english = re.compile(r"\b(the|is|are|and|of|when|only|rows?|Warning|Blocking|amount|date)\b")
    for ds in load_contract().values():
        rules = rules_for(ds)
        assert [r.id for r in rules][:2] == ["required", "type"], ds.name
        assert "duplicate_row" in {r.id for r in rules}, ds.name  # exact repeats never pass silently
        assert len({r.check_name for r in rules}) == len(rules), ds.name
        for rule in rules:
            assert rule.title and rule.message, (ds.name, rule.id)
            assert re.fullmatch(r"[a-z][a-z0-9_]*", rule.check_name), (ds.name, rule.id)
            # One language per description (issue 13): Polish only, no English second sentence.
            assert not english.search(rule.description), (ds.name, rule.id, rule.description)
            assert not english.search(rule.check_description), (ds.name, rule.id)
            assert "\n" not in rule.check_description and "**" not in rule.check_description
            assert rule.severity in ("error", "warning") and rule.level in ("row", "dataset")
            for expectation in rule.expectations():
                assert expectation.type.startswith("expect_")
    expenses = {r.id: r for r in rules_for(load_contract()["expenses"])}
    assert expenses["eligible_le_gross"].check_name == "kwota_kwalifikowalna_nie_wieksza_niz_brutto"
    assert expenses["eligible_le_gross"].check_description == (
        "Kwota kwalifikowalna nie większa niż kwota brutto (błąd: wiersz do kwarantanny). "
        "Kwota wydatków kwalifikowalnych nie przekracza kwoty dokumentu brutto (w korekcie: co do wartości "
        "bezwzględnej).")
    assert expenses["required"].check_name == "wymagane_wartosci_uzupelnione"


def test_blocking_rules_are_the_ones_that_make_figures_wrong():
    blocking = {(ds.name, r.id) for ds in load_contract().values() for r in rules_for(ds) if r.blocking}
    assert blocking == {("budget", "budget_total"), ("tranches", "tranche_sum"), ("tranches", "tranche_eu_share")}


def test_rule_files_use_known_references_and_compute_functions():
    for name in load_contract():
        for rule in dataset_rules(name):
            for ref in rule.references:
                assert ref["scope"] in ("unit", "up_to_quarter", "other_quarters")
                columns = ref["column"] if isinstance(ref["column"], list) else [ref["column"]]  # a pair: "a/b"
                for column in columns:
                    load_contract()[ref["dataset"]].column(column)
            assert rule.compute is None or rule.compute in COMPUTE


def test_eu_split_rule_rounds_down_like_the_design_example():
    frame = pl.DataFrame({"amount_total": [Decimal("2489370.50"), Decimal("100000.00")],
                          "amount_eu": [Decimal("2098041.45"), Decimal("84280.01")]},
                         schema={"amount_total": pl.Decimal(18, 2), "amount_eu": pl.Decimal(18, 2)})
    out = COMPUTE["tranche_eu_share"](frame, {"eu_rate": Decimal("0.8428")})
    assert out["ok"].to_list() == [True, False]
    assert out["expected"].to_list() == ["2098041,45", "84280,00"]


def test_vat_rule_is_the_vat_inside_the_eligible_amount():
    """0 ≤ VAT ≤ gross − net and VAT ≤ eligible (SL2014 "W tym VAT"); zero tolerance at the limit."""
    money = pl.Decimal(18, 2)
    frame = pl.DataFrame({"gross_amount": ["123.00", "123.00", "100.00", "123.00", "123.00", "123.00"],
                          "net_amount": ["100.00", "100.00", "100.00", "100.00", "100.00", "100.00"],
                          "eligible_amount": ["123.00", "123.00", "100.00", "100.00", "110.00", "110.00"],
                          "vat_amount": ["23.00", "23.01", None, "0.00", "10.00", "-1.00"]}
                         ).select(pl.all().cast(money)).with_columns(pl.lit(None, dtype=pl.Boolean).alias("correction"))
    out = COMPUTE["vat_consistent"](frame, {})
    assert out["ok"].to_list() == [True, False, True, True, True, False]
    assert out["expected"].to_list()[:2] == ["23,00", "23,00"]


def test_money_format_is_polish():
    assert money_pl(Decimal("2499985.00")) == "2 499 985,00 zł"
    assert money_pl(Decimal("-1.5")) == "-1,50 zł"


def test_validate_partition_splits_rows_and_builds_checks_without_personal_data():
    ok = {"document_no": "FV/1", "issuer_nip": "5260001246", "issue_date": "02.08.2021", "task_no": "1",
          "cost_category": "3.1", "item_name": "Usługa", "gross_amount": "123,00", "net_amount": "100,00",
          "eligible_amount": "123,00", "vat_amount": "23,00"}
    rows = [ok, {**ok, "document_no": "FV/2", "gross_amount": "abc"}, {**ok, "document_no": "FV/3", "task_no": "9"},
            {**ok, "document_no": "FV/4", "issue_date": None}]
    result = validate_partition(dataset("expenses"), raw_frame("expenses", rows), ELBLAG, "2021Q3",
                                {"documents_other_quarters": ["FV/0"], "budget_tasks": [1, 2]},
                                today=date(2021, 10, 5), checked_at=CHECKED_AT)
    # issue 12: a task outside the agreement's budget is an error (it was a warning counted "outside the budget")
    assert result.accepted["document_no"].to_list() == ["FV/1"]
    assert result.quarantine.select("row_number", "rule", "column_name", "severity", "value").rows() == [
        (3, "type", "gross_amount", "error", "abc"),
        (4, "task_in_budget", "task_no", "error", "9"),
        (5, "required", "issue_date", "error", None),
    ]
    assert result.quarantine.filter(pl.col("rule") == "task_in_budget")["message"].to_list() == [
        "Zadania o numerze „9” nie ma w budżecie projektu (umowa/budzet.csv). Dozwolone numery zadań: 1, 2. "
        "Popraw numer zadania."]
    assert result.summary | {"checked_at": None} == {
        "unit": "elblag", "quarter": "2021Q3", "dataset": "expenses", "source_file": "elblag/2021Q3/wydatki.csv",
        "file_sha256": "ab" * 32, "received": 4, "accepted": 1, "quarantined": 3, "warnings": 0, "checked_at": None}
    checks = {c.check_name: c for c in check_results(result)}
    typed = checks["wartosci_poprawnego_typu"]  # check names are the rules' Polish check_name (issue 13)
    assert typed.passed is False and typed.severity == dg.AssetCheckSeverity.WARN
    assert typed.metadata["wiersze z błędem"].value == 1
    assert typed.metadata["sprawdzone wiersze"].value == 4
    assert "| 3 | Kwota dokumentu brutto | abc |" in typed.metadata["przykłady"].value
    assert checks["kwota_kwalifikowalna_nie_wieksza_niz_brutto"].passed is True


def test_participant_examples_hide_pesel_derived_and_sensitive_values():
    rows = [{"participant_id": "ELB/1", "sex": "K", "start_date": "05.07.2021", "disability": "Może"}]
    raw = raw_frame("participants", rows).with_columns(
        pl.lit("k" * 32).alias("person_key"), pl.lit("invalid_checksum").alias("pesel_status"),
        pl.lit(None, dtype=pl.Date).alias("birth_date"), pl.lit(None, dtype=pl.Utf8).alias("sex_from_pesel"),
        pl.lit(None, dtype=pl.Int64).alias("age_at_entry_from_pesel"))
    result = validate_partition(dataset("participants"), raw, ELBLAG, "2021Q3", {}, today=date(2021, 10, 5))
    assert result.quarantine.select("rule", "column_name", "value").rows() == [
        ("allowed_values", "disability", None), ("pesel_checksum", "pesel", None)]
    text = str([c.metadata for c in check_results(result)]) + str(result.quarantine.rows())
    assert "k" * 32 not in text and "Może" not in text


def test_budget_total_refuses_the_file_with_the_difference():
    lines = [{"task_no": "1", "task_name": "A", "cost_category": "1", "category_name": "A", "amount": "2 173 900,00"},
             {"task_no": "0", "task_name": "KP", "cost_category": "0", "category_name": "KP", "amount": "326 085,01"}]
    result = validate_partition(dataset("budget"), raw_frame("budget", lines, None), ELBLAG, None, {})
    assert result.refused and result.accepted.height == 0
    assert result.quarantine.select("row_number", "rule", "message").rows() == [
        (None, "budget_total", "Suma kwot budżetu (2 499 985,01 zł) nie jest równa wartości projektu z umowy "
                               "(2 499 985,00 zł); różnica 0,01 zł. Popraw kwoty w pliku budzet.csv. Do czasu "
                               "poprawy obowiązuje dotychczasowy budżet.")]
    lines[1]["amount"] = "326 085,00"
    assert not validate_partition(dataset("budget"), raw_frame("budget", lines, None), ELBLAG, None, {}).refused


def test_file_check_refuses_a_header_block_of_another_unit(tmp_path):
    path = folder(tmp_path) / "uczestnicy.xlsx"
    write_participants_xlsx(path, [participant("X/1", PESEL_A)], agreement="POWR.02.08.00-00-0062/20",
                            unit_name="CUS Starachowice")
    table = read_landing_file(path, dataset("participants"))
    import duckdb

    conn = duckdb.connect()
    with pytest.raises(LandingFileError, match="wskazuje inną jednostkę: „POWR.02.08.00-00-0062/20” \\(starachowice"):
        check_landing_file(conn, dataset("participants"), table, "elblag", "2021Q3", load_units(), "elblag/2021Q3")
    check_landing_file(conn, dataset("participants"), table, "starachowice", "2021Q3", load_units(), "x")  # own


def test_file_check_keeps_a_file_with_some_dates_in_the_period(tmp_path):
    import duckdb

    path = write_expenses(tmp_path, [expense("A", issue="01.01.2019"), expense("B", issue="01.08.2021")])
    table = read_landing_file(path, dataset("expenses"))
    check_landing_file(duckdb.connect(), dataset("expenses"), table, "elblag", "2021Q3", load_units(), "x")
    assert set(file_checks()) == {"same_file_as_other_unit", "header_names_other_unit", "all_dates_outside_period",
                                  "same_file_as_other_quarter", "all_dates_before_quarter"}


def test_staging_assets_partitions_dependencies_pool_and_checks():
    units = load_units()
    by_unit_quarter, by_unit = unit_quarter_partitions(units), unit_partitions(units)
    assets = {a.key.to_user_string(): a for a in build_staging_assets(by_unit_quarter, by_unit, units)}
    assert set(assets) == {f"staging/{name}" for name in load_contract()}
    deliveries = assets["staging/deliveries"]
    assert deliveries.partitions_def == by_unit_quarter and assets["staging/budget"].partitions_def == by_unit
    assert deliveries.group_names_by_key[deliveries.key] == "staging"
    assert set(deliveries.dependency_keys) == {dg.AssetKey(["raw", "deliveries"]), dg.AssetKey(["staging", "participants"]),
                                              dg.AssetKey(["staging", "services"])}
    mapping = deliveries.get_partition_mapping(dg.AssetKey(["staging", "services"]))
    # unit × quarter keys (`srokowo|2021Q2`) map to the unit's agreement partition (`srokowo`)
    assert isinstance(mapping, dg.StaticPartitionMapping)
    upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
        by_unit_quarter.subset_with_partition_keys(["srokowo|2021Q2"]), by_unit_quarter, by_unit)
    assert set(upstream.partitions_subset.get_partition_keys()) == {"srokowo"}
    assert deliveries.op.pool == "warehouse"
    specs = {spec.name: spec for spec in assets["staging/tranches"].check_specs}
    assert specs["czesc_efs_zgodna_z_udzialem_efs"].blocking and not specs["bez_powtorzonych_wierszy"].blocking
    assert specs["czesc_efs_zgodna_z_udzialem_efs"].description.startswith("Część EFS = kwota ogółem × udział EFS")
    description = deliveries.descriptions_by_key[deliveries.key]
    assert description.startswith("Świadczenia (zrealizowane usługi) — dane zweryfikowane")
    assert "Validated" not in description and "**" not in description


def test_a_date_in_the_future_is_refused_while_the_quarter_runs():
    rows = [{"participant_id": "ELB/1", "service_code": "OPK", "delivery_date": "09.08.2021", "units": "1"},
            {"participant_id": "ELB/1", "service_code": "OPK", "delivery_date": "20.08.2021", "units": "1"}]
    result = validate_partition(dataset("deliveries"), raw_frame("deliveries", rows), ELBLAG, "2021Q3",
                                {"known_participants": ["ELB/1"], "service_catalogue": ["OPK"]}, today=date(2021, 8, 10))
    assert result.quarantine.select("row_number", "rule", "message").rows() == [
        (3, "date_not_after_quarter", "Kolumna „Data realizacji”: data późniejsza niż dzisiejsza data (10.08.2021) — "
                                      "data z przyszłości. Wykaż świadczenie w pliku za właściwy kwartał albo popraw datę.")]


@pytest.mark.parametrize("failing, words", [(1, "1 wiersz z błędem"), (3, "3 wiersze z błędem"),
                                            (5, "5 wierszy z błędem"), (22, "22 wiersze z błędem")])
def test_check_summary_counts_rows_in_polish(failing, words):
    from types import SimpleNamespace

    result = SimpleNamespace(summary={"unit": "elblag", "quarter": "2021Q3", "source_file": "elblag/2021Q3/wydatki.csv"})
    item = SimpleNamespace(rule=SimpleNamespace(title="Kwota dodatnia"), passed=False, failing_rows=failing, examples=[])
    assert check_summary(result, item) == f"Kwota dodatnia: {words} — elblag 2021Q3, plik elblag/2021Q3/wydatki.csv."
