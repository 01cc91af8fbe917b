"""The landing sensor requests one batch run per burst of changed files; provider templates follow the contract."""

import os
import time

import dagster as dg
import openpyxl
from landing_fixtures import EXPENSE_HEADERS, write_csv

from core.contract import load_contract
from pipelines.definitions import build_definitions
from pipelines.tools.templates import write_templates


def _evaluate(sensor, resources, cursor=None):
    context = dg.build_sensor_context(cursor=cursor, resources={"landing": resources["landing"],
                                                                "warehouse": resources["warehouse"]})
    result = sensor(context)
    # run requests only; a SkipReason (the tick's text about entries not read) is tested on its own
    requests = [r for r in (list(result) if result is not None else []) if isinstance(r, dg.RunRequest)]
    return requests, context.cursor


def _keys(requests) -> list[str]:
    """Partition keys of the batch runs requested (one run per burst: the keys are in its config)."""
    return [key for r in requests for key in r.run_config["ops"]["ingest_batch"]["config"]["partitions"]]


def test_landing_sensor_requests_new_and_changed_partitions_once(landing, resources):
    row = ["FV/1/2021", "5260001246", "2021-03-04", "", 1, "3.1", "x", "10.00", "10.00", "10.00", "0.00", "N", "N", "N"]
    write_csv(landing / "elblag" / "2021Q1" / "wydatki.csv", EXPENSE_HEADERS, [row])
    write_csv(landing / "srokowo" / "umowa" / "harmonogram.csv", ["Kwartał", "Planowane wydatki"], [["2021Q1", "10.00"]])
    (landing / "srokowo" / "2021Q1").mkdir(parents=True)
    (landing / "srokowo" / "2021Q1" / "notatka.txt").write_text("not a contract file")
    sensor = build_definitions(resources=resources).resolve_sensor_def("landing_sensor")

    requests, cursor = _evaluate(sensor, resources)
    # one burst of files (two partitions) -> one batch run
    assert [r.job_name for r in requests] == ["ingest_batch_job"]
    assert _keys(requests) == ["elblag|2021Q1", "srokowo"]
    again, cursor = _evaluate(sensor, resources, cursor)
    assert again == []

    # touched but identical content: no run; changed content: one run with a new run key
    path = landing / "elblag" / "2021Q1" / "wydatki.csv"
    os.utime(path, (time.time() + 5, time.time() + 5))
    touched, cursor = _evaluate(sensor, resources, cursor)
    assert touched == []
    row[7] = row[9] = "20.00"
    write_csv(path, EXPENSE_HEADERS, [row])
    changed, _ = _evaluate(sensor, resources, cursor)
    assert _keys(changed) == ["elblag|2021Q1"]
    assert changed[0].run_key != requests[0].run_key


def test_provider_templates_have_contract_headers_and_dropdowns(tmp_path):
    paths = write_templates(tmp_path)
    contract = load_contract()
    assert sorted(p.name for p in paths) == sorted(f"{d.file}.xlsx" for d in contract.values())
    workbook = openpyxl.load_workbook(tmp_path / "uczestnicy.xlsx")
    sheet = workbook["uczestnicy"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [c.header for c in contract["participants"].columns]
    lists = workbook["Listy"]
    dropdowns = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in sheet.data_validations.dataValidation}
    sex_column = openpyxl.utils.get_column_letter(headers.index("Płeć") + 1)
    sex_range = dropdowns[f"{sex_column}2"]
    letter = sex_range.split("!$")[1].split("$")[0]
    assert [lists[f"{letter}{i}"].value for i in (1, 2)] == ["Kobieta", "Mężczyzna"]
    assert "Wyższe (ISCED 5-8)" in [c.value for col in lists.iter_cols() for c in col]


def test_a_filled_in_expenses_template_is_ingested_like_the_csv(tmp_path, landing, resources):
    """Providers get XLSX templates for every file; the pipeline reads them (sheet 1, header row 1,
    the "Instrukcja"/"Listy" sheets ignored) as it reads the CSV export."""
    import duckdb

    write_templates(tmp_path)
    workbook = openpyxl.load_workbook(tmp_path / "wydatki.xlsx")
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    values = {"Nr dokumentu": "FV/9/2021", "NIP wystawcy": "5260001246", "Data wystawienia": "04.03.2021",
              "Nr zadania": 1, "Kategoria kosztów": "1.1", "Nazwa towaru lub usługi": "Diagnoza",
              "Kwota dokumentu brutto": 1230.0, "Kwota dokumentu netto": 1000.0,
              "Kwota wydatków kwalifikowalnych": 1230.0, "W tym VAT": 230.0}
    for header, value in values.items():
        sheet.cell(row=2, column=headers.index(header) + 1, value=value)
    target = landing / "elblag" / "2021Q1" / "wydatki.xlsx"
    target.parent.mkdir(parents=True)
    workbook.save(target)

    sensor = build_definitions(resources=resources).resolve_sensor_def("landing_sensor")
    requests, _ = _evaluate(sensor, resources)
    assert _keys(requests) == ["elblag|2021Q1"]
    defs = build_definitions(resources=resources)
    result = defs.resolve_job_def("ingest_quarter_job").execute_in_process(
        partition_key="elblag|2021Q1",
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    with duckdb.connect(resources["warehouse"].path, read_only=True) as conn:
        assert conn.sql("SELECT source_file, row_number, document_no, gross_amount, eligible_amount "
                        "FROM raw.expenses").fetchall() == [
            ("elblag/2021Q1/wydatki.xlsx", 2, "FV/9/2021", "1230", "1230")]
        assert conn.sql("SELECT issue_date::VARCHAR, eligible_amount::VARCHAR, vat_amount::VARCHAR "
                        "FROM staging.expenses").fetchall() == [("2021-03-04", "1230.00", "230.00")]


def _run_status_context(sensor, instance, run):
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records
    return dg.build_run_status_sensor_context(sensor_name=sensor.name, dagster_instance=instance, dagster_run=run,
                                              dagster_event=records[-1].event_log_entry.dagster_event)


def test_indicators_are_rebuilt_once_after_the_last_ingest_run_of_a_burst(landing, resources):
    row = ["FV/1/2021", "5260001246", "2021-03-04", "", 1, "3.1", "x", "10.00", "10.00", "10.00", "0.00", "N", "N", "N"]
    write_csv(landing / "elblag" / "2021Q1" / "wydatki.csv", EXPENSE_HEADERS, [row])
    defs = build_definitions(resources=resources)
    sensor = defs.resolve_sensor_def("indicators_after_ingest_sensor")
    instance = dg.DagsterInstance.ephemeral()
    ingest = defs.resolve_job_def("ingest_quarter_job")
    done = ingest.execute_in_process(partition_key="elblag|2021Q1",
                                     instance=instance)
    assert done.success

    # another ingest run of the burst still running: wait for it
    instance.create_run_for_job(ingest, status=dg.DagsterRunStatus.STARTED,
                                tags={"dagster/partition": "elblag|2021Q2"})
    waiting = sensor(_run_status_context(sensor, instance, done.dagster_run))
    assert isinstance(waiting, dg.SkipReason) and "1" in waiting.skip_message

    # the last one finished: one rebuild, keyed by the run, of the indicators job
    quiet = dg.DagsterInstance.ephemeral()
    last = ingest.execute_in_process(partition_key="elblag|2021Q1",
                                     instance=quiet)
    request = sensor(_run_status_context(sensor, quiet, last.dagster_run))
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"indicators-after-{last.run_id}"


def test_folders_outside_the_period_or_misnamed_are_reported_and_never_stop_the_sensor(landing, resources):
    row = ["FV/1/2021", "5260001246", "2021-03-04", "", 1, "3.1", "x", "10.00", "10.00", "10.00", "0.00", "N", "N", "N"]
    write_csv(landing / "elblag" / "2021Q1" / "wydatki.csv", EXPENSE_HEADERS, [row])
    write_csv(landing / "elblag" / "2024Q1" / "wydatki.csv", EXPENSE_HEADERS, [row])  # after Elbląg's period
    write_csv(landing / "srokowo" / "2021-Q2" / "wydatki.csv", EXPENSE_HEADERS, [row])  # not the folder name read
    (landing / "srokowo" / "archiwum").mkdir()  # not a quarter: reported too (issue 12: nothing ignored silently)
    from core.registry import load_units
    from pipelines.sensors import landing_files

    problems: list[str] = []
    found = landing_files(landing, load_units(), problems)
    assert list(found) == ["elblag/2021Q1/wydatki.csv"]
    assert problems == [
        "elblag/2024Q1/: folder nie jest czytany: kwartał 2024Q1 jest poza okresem projektu jednostki (2021Q1–2023Q3). "
        "Co zrobić: Sprawdź kwartał wniosku: dane spoza okresu projektu nie są rozliczane; przenieś pliki do "
        "właściwego kwartału albo usuń folder.",
        "srokowo/2021-Q2/: folder nie jest czytany: nazwa kwartału zapisana inaczej niż 2021Q2. "
        "Co zrobić: Zmień nazwę folderu na 2021Q2.",
        "srokowo/archiwum/: folder nie jest czytany: to nie jest folder kwartału (RRRRQn, np. 2021Q3) ani folder "
        "umowy (umowa/). Co zrobić: Przenieś pliki kwartału do folderu srokowo/<RRRR>Q<n>/, a pliki umowy do "
        "srokowo/umowa/; folder, który nie zawiera danych do wczytania, usuń z folderu przyjęć.",
    ]
    sensor = build_definitions(resources=resources).resolve_sensor_def("landing_sensor")
    requests, _ = _evaluate(sensor, resources)
    assert _keys(requests) == ["elblag|2021Q1"]


def test_every_file_not_in_a_valid_place_is_reported_with_its_fix(landing, resources):
    """Issue 12: a tranche file at the unit root, an unknown name, an unsupported extension, an agreement
    file in a quarter folder — each reported with path and fix, in the sensor's tick too."""
    write_csv(landing / "srokowo" / "transze.csv", ["Nr transzy"], [["1"]])
    write_csv(landing / "srokowo" / "2021Q2" / "faktury.csv", ["x"], [["1"]])
    write_csv(landing / "srokowo" / "2021Q2" / "wydatki.ods", ["x"], [["1"]])
    write_csv(landing / "srokowo" / "2021Q2" / "budzet.csv", ["x"], [["1"]])
    (landing / "srokowo" / "2021Q2" / ".~lock.wydatki.csv#").write_text("lock")  # editor lock file: not data
    from core.landing import scan_landing
    from core.registry import load_units

    scan = scan_landing(landing, load_units())
    assert scan.files == {}
    assert [(p.unit, p.path, p.problem, p.fix) for p in scan.problems] == [
        ("srokowo", "srokowo/2021Q2/budzet.csv", "plik nie jest czytany: ten plik należy do innego folderu.",
         "Przenieś plik do folderu srokowo/umowa/."),
        ("srokowo", "srokowo/2021Q2/faktury.csv",
         "plik nie jest czytany: nieznana nazwa pliku (w tym folderze czytane są: opis_postepu.csv, "
         "opis_postepu.xlsx, swiadczenia.csv, swiadczenia.xlsx, "
         "transze.csv, transze.xlsx, uczestnicy.csv, uczestnicy.xlsx, wydatki.csv, wydatki.xlsx).",
         "Nadaj plikowi nazwę z kontraktu danych (szablon: `cus templates`) albo usuń go z folderu przyjęć."),
        ("srokowo", "srokowo/2021Q2/wydatki.ods", "plik nie jest czytany: rozszerzenie „.ods” nie jest obsługiwane.",
         "Zapisz plik jako wydatki.csv albo wydatki.xlsx (szablon: `cus templates`)."),
        ("srokowo", "srokowo/transze.csv",
         "plik leży bezpośrednio w folderze jednostki, poza folderem kwartału — nie jest czytany.",
         "Przenieś plik do folderu kwartału wniosku: srokowo/<RRRR>Q<n>/transze.csv (np. srokowo/2021Q1/transze.csv)."),
    ]
    sensor = build_definitions(resources=resources).resolve_sensor_def("landing_sensor")
    context = dg.build_sensor_context(resources={"landing": resources["landing"], "warehouse": resources["warehouse"]})
    (skip,) = list(sensor(context))
    assert isinstance(skip, dg.SkipReason)
    assert skip.skip_message.startswith("Brak nowych plików do wczytania. Pominięte wpisy w folderze przyjęć (4):\n"
                                        "- srokowo/2021Q2/budzet.csv: plik nie jest czytany")
    assert "- srokowo/transze.csv: plik leży bezpośrednio w folderze jednostki" in skip.skip_message


def test_going_back_to_an_earlier_file_content_is_ingested_again(landing, resources):
    row = ["FV/1/2021", "5260001246", "2021-03-04", "", 1, "3.1", "x", "10.00", "10.00", "10.00", "0.00", "N", "N", "N"]
    path = landing / "elblag" / "2021Q1" / "wydatki.csv"
    sensor = build_definitions(resources=resources).resolve_sensor_def("landing_sensor")
    keys, cursor = [], None
    for amount, stamp in (("10.00", 1_700_000_000), ("20.00", 1_700_000_100), ("10.00", 1_700_000_200)):
        row[7] = row[8] = row[9] = amount
        write_csv(path, EXPENSE_HEADERS, [row])
        os.utime(path, (stamp, stamp))
        requests, cursor = _evaluate(sensor, resources, cursor)
        keys += [r.run_key for r in requests]
    assert len(keys) == 3 and len(set(keys)) == 3  # v1, v2, v1 again: three runs (run keys are never reused)


def test_files_already_loaded_by_the_cli_are_not_ingested_again_when_the_ui_starts(landing, resources):
    """`cus run` / `make demo` load files in-process (the sensor's cursor never saw them): opening the
    UI must not queue them all again, but a file changed afterwards still starts its run."""
    row = ["FV/1/2021", "5260001246", "2021-03-04", "", 1, "3.1", "x", "10.00", "10.00", "10.00", "0.00", "N", "N", "N"]
    write_csv(landing / "elblag" / "2021Q1" / "wydatki.csv", EXPENSE_HEADERS, [row])
    write_csv(landing / "elblag" / "2021Q2" / "wydatki.csv", EXPENSE_HEADERS, [row])
    defs = build_definitions(resources=resources)
    assert defs.resolve_job_def("ingest_quarter_job").execute_in_process(
        partition_key="elblag|2021Q1",
        instance=dg.DagsterInstance.ephemeral()).success
    sensor = defs.resolve_sensor_def("landing_sensor")
    requests, cursor = _evaluate(sensor, resources)
    assert _keys(requests) == ["elblag|2021Q2"]  # 2021Q1 is already loaded
    row[7] = row[8] = row[9] = "30.00"
    write_csv(landing / "elblag" / "2021Q1" / "wydatki.csv", EXPENSE_HEADERS, [row])
    changed, _ = _evaluate(sensor, resources, cursor)
    assert _keys(changed) == ["elblag|2021Q1"]
