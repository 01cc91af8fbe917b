"""`cus` — the coordinator's command line (the same work as the Dagster UI, without it).

    cus demo                       sample data + the whole pipeline (README's first command)
    cus sample [--out DIR]         write the deterministic sample landing files
    cus run [--unit U] [--quarter Q]   ingest + validate what has landed, then indicators and reports
    cus ingest --unit U --quarter Q    re-run one unit × quarter after a correction
    cus recover                    after a killed run: fail it, free the `warehouse` pool slot
    cus rotate-key [--delete-old]  a new pseudonym key: rebuild from landing into a new file, check, swap
    cus reports --quarter Q [--unit U] quarterly report files for one quarter
    cus templates [--out DIR]      blank XLSX templates for data providers
    cus publish [--force] [--write-docs]  read-only copy for ad hoc SQL (data/published/current.duckdb)
    cus sql ["SELECT …"]           one query on the published copy, or an interactive shell
    cus status [--unit U] [--quarter Q]  status of every unit × quarter (received, missing, refused, …)
    cus ui                         open the Dagster UI (dagster dev) and serve the reports folder

Errors are printed as one clear line in Polish and the command exits with status 1 (no
traceback; set CUS_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from core.paths import project_path
from core.settings import apply_defaults


class CliError(Exception):
    """A coordinator-facing problem: printed as one line, exit status 1."""


def _units():
    from core.registry import load_units

    return list(load_units())


def _start_validation() -> None:
    """A command that runs a batch starts Great Expectations' worker before it imports Dagster: GX
    imports on the other core meanwhile (assets/staging/suites.py)."""
    from assets.staging.validation_process import start_validation_process

    start_validation_process()


def _context():
    """(definitions, instance, units, landing root) for the current environment."""
    import dagster as dg

    from core.registry import load_units, registry_path
    from pipelines.definitions import build_definitions

    registry = registry_path()
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return build_definitions(registry), dg.DagsterInstance.get(), list(load_units(registry)), project_path(os.environ["CUS_LANDING"])


def _select_units(units, wanted: str | None):
    if not wanted:
        return units
    chosen = [u for u in units if u.key == wanted]
    if not chosen:
        raise CliError(f"Nieznana jednostka {wanted!r}; znane: {', '.join(u.key for u in units)}.")
    return chosen


def _parse_quarter_arg(text: str | None) -> list[str] | None:
    from core.quarters import parse_quarter

    if not text:
        return None
    quarter = parse_quarter(text)
    if quarter is None:
        raise CliError(f"Nieprawidłowy kwartał {text!r}: podaj np. 2021Q1.")
    return [quarter]


def _finish(summary) -> int:
    from reports.formatting import count

    done = count(len(summary.succeeded), "przebieg udany", "przebiegi udane", "przebiegów udanych")
    print(f"\nGotowe: {done}, {len(summary.failed)} z błędami.")
    for label, message in summary.failed:
        print(f"  ✗ {label}: {message}")
    return 0 if summary.ok else 1


def cmd_sample(args) -> int:
    from pipelines.tools.sample_data import generate

    out = project_path(args.out or os.environ["CUS_LANDING"])
    if out.exists() and args.fresh:
        shutil.rmtree(out)
    summary = generate(out, seed=args.seed, units=args.units, scale=args.scale)
    print(f"Dane przykładowe zapisane w {out}")
    return 0 if summary is not None else 1


def _demo_key(args) -> bool:
    """`--demo`: the demo key (only for the warehouse `cus demo` built; its fingerprint is checked)."""
    from core.settings import DEMO_PSEUDONYM_KEY, KEY_VARIABLE

    if getattr(args, "demo", False):
        os.environ.setdefault(KEY_VARIABLE, DEMO_PSEUDONYM_KEY)
        print("Uwaga: klucz pseudonimizacji DEMO — tylko dla hurtowni z danymi przykładowymi (cus demo).")
        return True
    return False


def cmd_run(args) -> int:
    _require_key(allow_demo=_demo_key(args))
    _start_validation()
    from pipelines.tools.runner import run_pipeline

    defs, instance, units, landing = _context()
    summary = run_pipeline(defs, instance, _select_units(units, args.unit), landing,
                           quarters=_parse_quarter_arg(args.quarter), with_reports=not args.no_reports,
                           force=getattr(args, "force", False))
    _publish_after(summary)
    return _finish(summary)


def cmd_ingest(args) -> int:
    _require_key(allow_demo=_demo_key(args))
    quarters = _parse_quarter_arg(args.quarter)
    (unit,) = _select_units(_units(), args.unit)
    if quarters[0] not in unit.quarters:
        raise CliError(f"Kwartał {quarters[0]} jest poza okresem projektu jednostki {unit.key} "
                       f"({unit.quarters[0]}–{unit.quarters[-1]}).")
    folder = project_path(os.environ["CUS_LANDING"]) / unit.key / quarters[0]
    if not folder.is_dir():
        raise CliError(f"Brak folderu {folder}: nie ma czego wczytać dla {unit.key} {quarters[0]}.")
    _start_validation()
    from pipelines.tools.runner import run_pipeline

    defs, instance, _all_units, landing = _context()
    summary = run_pipeline(defs, instance, [unit], landing, quarters=quarters, with_reports=not args.no_reports,
                           force=True)
    _publish_after(summary)
    return _finish(summary)


def cmd_recover(args) -> int:
    from pipelines.recovery import recover

    _defs, instance, _units_, _landing = _context()
    done = recover(instance)
    for line in done:
        print(f"  {line}")
    print("Odzyskiwanie: " + ("wykonano powyższe." if done else "nic do zrobienia — brak przerwanych przebiegów "
                                                              "i zajętych miejsc w puli „warehouse”."))
    return 0


def cmd_rotate_key(args) -> int:
    import dagster as dg

    from core.registry import load_units, registry_path
    from pipelines.tools.rotate_key import run_rotate_key

    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return run_rotate_key(project_path(os.environ["CUS_WAREHOUSE"]), project_path(os.environ["CUS_LANDING"]),
                          load_units(registry_path()), dg.DagsterInstance.get(), _published_dir(),
                          keep_backup=not args.delete_old)


def _require_key(allow_demo: bool = False) -> None:
    """Refuse to start without CUS_PSEUDONYM_KEY, with the demo key outside the demo, or with a key
    other than the one the warehouse was built with (docs/settlement.md)."""
    from core.key_fingerprint import check_warehouse_key
    from core.settings import require_pseudonym_key

    key = require_pseudonym_key(allow_demo=allow_demo)
    check_warehouse_key(project_path(os.environ["CUS_WAREHOUSE"]), key.encode("utf-8"))


def cmd_demo(args) -> int:
    from core.settings import use_demo_key

    landing = project_path(os.environ["CUS_LANDING"])
    if use_demo_key():
        print("Uwaga: klucz pseudonimizacji DEMO — tylko dla danych przykładowych (cus demo).")
    _require_key(allow_demo=True)
    if not landing.exists():
        args.out, args.fresh, args.seed, args.units, args.scale = None, False, 2028, None, 1.0
        cmd_sample(args)
    args.unit, args.quarter, args.no_reports, args.demo = None, None, False, True
    code = cmd_run(args)
    print(f"\nHurtownia: {project_path(os.environ['CUS_WAREHOUSE'])}\nRaporty:   {project_path(os.environ['CUS_REPORTS'])}"
          "\nInterfejs: make demo-ui (Dagster UI na http://127.0.0.1:3000 z kluczem DEMO)")
    return code


def _warehouse_file() -> Path:
    path = project_path(os.environ["CUS_WAREHOUSE"])
    if not path.is_file():
        raise CliError(f"Brak hurtowni {path}: najpierw wczytaj dane (cus run albo cus demo).")
    return path


def _published_dir() -> Path:
    from core.paths import published_dir

    return published_dir()


def _publish_after(summary) -> None:
    """The CLI runs jobs in-process (no daemon, so no publish_sensor): publish here instead."""
    from pipelines.tools.publish_command import publish_after_run

    if summary.succeeded:
        publish_after_run(project_path(os.environ["CUS_WAREHOUSE"]), _published_dir())


def cmd_publish(args) -> int:
    from pipelines.tools.publish_command import run_publish

    return run_publish(_warehouse_file(), _published_dir(), force=args.force, write_docs=args.write_docs)


def cmd_sql(args) -> int:
    from pipelines.tools import sql_shell

    return sql_shell.main(args.query, _published_dir(), max_rows=args.max_rows, csv=args.csv)


def cmd_reports(args) -> int:
    from core.quarters import quarter_to_partition_key
    from pipelines.tools.runner import RunSummary, run_job

    (quarter,) = _parse_quarter_arg(args.quarter)
    all_quarters = sorted({q for u in _units() for q in u.quarters})
    if quarter not in all_quarters:
        raise CliError(f"Kwartał {quarter} jest poza okresem projektów ({all_quarters[0]}–{all_quarters[-1]}).")
    _warehouse_file()
    defs, instance, _all_units, _landing = _context()
    if "reports_job" not in {job.name for job in defs.jobs or []}:
        raise CliError("Brak zadania reports_job w definicjach: raporty nie są jeszcze skonfigurowane.")
    summary = RunSummary()
    print(f"Raporty kwartalne {quarter} (wszystkie jednostki i raport zbiorczy)")
    run_job(defs, "reports_job", quarter_to_partition_key(quarter), instance, f"raporty {quarter}", summary, print,
            step=(1, 1))
    if summary.ok:
        print(f"Raporty: {project_path(os.environ['CUS_REPORTS']) / quarter}")
    return _finish(summary)


def cmd_status(args) -> int:
    from assets.report.status import grid_text, quarantine_lines, unit_detail_text, unit_quarter_status
    from reports import queries

    units = _select_units(_units(), args.unit)
    quarters = _parse_quarter_arg(args.quarter)
    warehouse = project_path(os.environ["CUS_WAREHOUSE"])
    reports_root = project_path(os.environ["CUS_REPORTS"])
    problems: list[str] = []
    if warehouse.is_file():
        try:
            with queries.read_only(warehouse, wait_seconds=10) as conn:
                status = unit_quarter_status(conn, units, reports_root)
                if args.unit and quarters:
                    problems = quarantine_lines(conn, args.unit, quarters[0])
        except queries.WarehouseBusy as error:
            raise CliError(str(error)) from error
    else:
        print(f"Uwaga: brak hurtowni {warehouse} — nie wczytano jeszcze żadnego pliku.")
        status = unit_quarter_status(None, units, reports_root)
    if quarters:
        if quarters[0] not in set(status["quarter"].to_list()):
            raise CliError(f"Kwartał {quarters[0]} jest poza okresem projektów wybranych jednostek.")
        status = status.filter(status["quarter"] == quarters[0])
    print(grid_text(status))
    if args.unit:
        print()
        print(unit_detail_text(status, args.unit))
        if problems:
            print(f"\nWiersze odrzucone i ostrzeżenia {args.unit} {quarters[0]}:")
            print("\n".join(problems))
        elif not quarters:
            print(f"\nSzczegóły wierszy (plik, wiersz, kolumna, wartość): cus status --unit {args.unit} --quarter RRRRQn")
    return 0


def cmd_templates(args) -> int:
    from pipelines.tools.templates import write_templates

    paths = write_templates(project_path(args.out))
    for path in paths:
        print(path)
    return 0


def cmd_ui(args) -> int:
    from pipelines.tools.ui import run_ui

    _require_key(allow_demo=_demo_key(args))
    return run_ui(args.host, args.port, args.reports_port)


def build_parser() -> argparse.ArgumentParser:
    from pipelines.tools.argparse_pl import PolishArgumentParser

    parser = PolishArgumentParser(prog="cus", description="Rozliczanie i monitoring projektów CUS (POWER 2.8).",
                                  epilog="Pomoc polecenia: cus <polecenie> -h. Błędy są wypisywane jednym wierszem "
                                  "(szczegóły: CUS_DEBUG=1).")
    sub = parser.add_subparsers(dest="command", required=True, title="polecenia", metavar="polecenie")

    p = sub.add_parser("demo", help="dane przykładowe + cały potok (ingest → walidacja → wskaźniki → raporty)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sample", help="zapisz deterministyczne dane przykładowe do folderu landing")
    p.add_argument("--out", help="folder docelowy (domyślnie CUS_LANDING)")
    p.add_argument("--seed", type=int, default=2028, help="ziarno losowania: to samo ziarno = identyczne pliki")
    p.add_argument("--units", type=int, default=None,
                   help="liczba jednostek (progi skali: docs/domain.md §13); powyżej 4 dochodzą jednostki syntetyczne "
                   "gmina_0005… i rejestr <out>/../units_<N>.yaml (ustaw CUS_REGISTRY na ten plik)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="mnożnik liczby uczestników, świadczeń i dokumentów (1.0 = próg 'pilot': ok. 1 500 "
                   "uczestników, 60 000 świadczeń, 3 000 dokumentów na jednostkę)")
    p.add_argument("--fresh", action="store_true", help="usuń najpierw istniejący folder")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("run", help="wczytaj, zwaliduj, przelicz wskaźniki i raporty dla tego, co dotarło")
    p.add_argument("--unit", help="tylko ta jednostka (klucz z config/units.yaml, np. elblag)")
    p.add_argument("--quarter", help="tylko ten kwartał, np. 2021Q1")
    p.add_argument("--no-reports", action="store_true", help="bez generowania raportów")
    p.add_argument("--force", action="store_true",
                   help="wczytaj ponownie także pliki bez zmian (np. po zmianie reguł walidacji)")
    p.add_argument("--demo", action="store_true",
                   help="klucz pseudonimizacji DEMO (tylko dla hurtowni zbudowanej przez cus demo)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("recover", help="po przerwanym przebiegu (kill -9): oznacz go jako nieudany i zwolnij pulę "
                       "„warehouse”")
    p.set_defaults(func=cmd_recover)

    p = sub.add_parser(
        "rotate-key", help="nowy klucz pseudonimizacji: odbuduj hurtownię z plików landing i podmień ją",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Przepseudonimizowuje hurtownię nowym kluczem. Hurtownia nie przechowuje numerów PESEL, więc\n"
        "jest budowana od nowa z plików landing (wszystkie partycje, hurtownia, wskaźniki i tabele raportów,\n"
        "jedna transakcja) do nowego pliku obok bieżącego, sprawdzana (te same partycje i liczby wierszy,\n"
        "te same wartości raportów, każdy pseudonim nowy) i dopiero wtedy podmieniana. Przy błędzie bieżąca\n"
        "hurtownia zostaje bez zmian. Obecny klucz: CUS_PSEUDONYM_KEY (sprawdzany z odciskiem hurtowni),\n"
        "nowy: CUS_NEW_PSEUDONYM_KEY (co najmniej 32 znaki). Klucze nie są nigdzie wypisywane.\n"
        "Szczegóły i RODO: docs/settlement.md („Zmiana klucza”).",
        epilog="Przykład:\n  export CUS_NEW_PSEUDONYM_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')\n"
        "  cus rotate-key              stara hurtownia zostaje jako <nazwa>.przed-zmiana-klucza-<czas>.duckdb\n"
        "  cus rotate-key --delete-old bez kopii starej hurtowni")
    p.add_argument("--delete-old", action="store_true",
                   help="usuń starą hurtownię (stare pseudonimy) zamiast zostawić ją jako kopię zapasową")
    p.set_defaults(func=cmd_rotate_key)

    p = sub.add_parser("ingest", help="ponownie wczytaj jednostkę × kwartał (po korekcie pliku), przelicz wskaźniki "
                       "i raporty tego i późniejszych kwartałów",
                       description="Korekta zmienia wartości narastające wszystkich późniejszych kwartałów, dlatego "
                       "raporty od tego kwartału są generowane ponownie (--no-reports pomija ten krok).")
    p.add_argument("--unit", required=True, help="klucz jednostki, np. srokowo")
    p.add_argument("--quarter", required=True, help="kwartał, np. 2021Q1")
    p.add_argument("--no-reports", action="store_true", help="bez ponownego generowania raportów")
    p.add_argument("--demo", action="store_true",
                   help="klucz pseudonimizacji DEMO (tylko dla hurtowni zbudowanej przez cus demo)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("reports", help="raporty kwartalne (HTML, PDF, XLSX) za jeden kwartał",
                       description="Buduje raporty kwartalne dla ministerstwa za podany kwartał (zadanie reports_job).")
    p.add_argument("--quarter", required=True, help="np. 2022Q1")
    p.set_defaults(func=cmd_reports)

    p = sub.add_parser(
        "publish", help="opublikuj kopię tylko do odczytu (bez danych osobowych) do zapytań SQL", add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Kopiuje schematy mart i report, wyniki walidacji (staging.quarantine, staging.validation_summary)\n"
        "i wersje plików (raw.file_versions) do nowego pliku <CUS_PUBLISHED>/cus_<czas>.duckdb (tylko do odczytu)\n"
        "i przełącza na niego <CUS_PUBLISHED>/current.duckdb (domyślnie data/published). Bez danych osobowych:\n"
        "tabele na poziomie osoby nie są kopiowane, identyfikatory i tekst dowolny są usuwane, małe liczebności\n"
        "kategorii wrażliwych ukryte (docs/sql.md). Po `cus run` / `cus ingest` i po udanych przebiegach w UI\n"
        "(publish_sensor) dzieje się to samo automatycznie.",
        epilog="Przykłady:\n  cus publish                 nowa kopia, jeśli hurtownia się zmieniła\n"
        "  cus publish --force         nowa kopia mimo braku zmian\n"
        "  cus publish --write-docs    także lista tabel i kolumn w docs/sql.md")
    p.add_argument("-h", "--help", action="help", help="pokaż tę pomoc i zakończ")
    p.add_argument("--force", action="store_true", help="publikuj nawet, gdy hurtownia się nie zmieniła")
    p.add_argument("--write-docs", action="store_true",
                   help="odśwież wygenerowaną listę tabel i kolumn w docs/sql.md z nowej kopii")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser(
        "sql", help="zapytanie SQL na opublikowanej kopii (bez argumentu: powłoka interaktywna)", add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Zapytania SQL (DuckDB) tylko do odczytu na opublikowanej kopii <CUS_PUBLISHED>/current.duckdb\n"
        "(domyślnie data/published) — nigdy na żywej hurtowni, więc nie blokują przebiegów potoku.\n"
        "Bez zapytania: powłoka interaktywna — zapytanie kończy ';', \\d lista tabel, \\d <tabela> kolumny\n"
        "z opisami, \\? pomoc, \\q wyjście; czyta też z potoku (cus sql < zapytania.sql).\n"
        "Tabele, kolumny i dziesięć przykładowych zapytań: docs/sql.md.",
        epilog="Przykłady:\n"
        "  cus sql \"SELECT * FROM meta.tables\"\n"
        "  cus sql \"SELECT unit, quarter, next_tranche_allowed FROM report.advances WHERE quarter = '2021Q3'\"\n"
        "  cus sql --csv \"SELECT * FROM report.finance_by_task\" > zadania.csv\n"
        "  cus sql                     powłoka interaktywna")
    p.add_argument("-h", "--help", action="help", help="pokaż tę pomoc i zakończ")
    p.add_argument("query", nargs="?", help='zapytanie SQL, np. "SELECT * FROM meta.tables"; brak = powłoka interaktywna')
    p.add_argument("--max-rows", type=int, default=50, help="ile wierszy wyniku pokazać (domyślnie 50; --csv: wszystkie)")
    p.add_argument("--csv", action="store_true", help="wynik jako CSV (do przekierowania do pliku)")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("status", help="stan danych: jednostki × kwartały (otrzymano, brak, odrzucony, kwarantanna, "
                       "raport)", description="Tabela stanu każdej jednostki w każdym kwartale, liczona z hurtowni i "
                       "plików raportów — to samo co zasób report/status w interfejsie Dagster.")
    p.add_argument("--unit", help="tylko ta jednostka (klucz, np. elblag) i szczegóły jej kwartałów")
    p.add_argument("--quarter", help="tylko ten kwartał, np. 2021Q3")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("templates", help="puste szablony XLSX dla dostawców danych")
    p.add_argument("--out", default="data/templates", help="folder docelowy (domyślnie data/templates)")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("ui", help="uruchom interfejs Dagster (dagster dev) i udostępnij raporty przez HTTP",
                       description="Uruchamia interfejs Dagster i serwer plików raportów (tylko 127.0.0.1), do "
                       "którego prowadzą odnośniki do raportów w interfejsie; oba kończą się razem (Ctrl+C).")
    p.add_argument("--host", default="127.0.0.1", help="adres interfejsu Dagster (domyślnie 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000, help="port interfejsu Dagster (domyślnie 3000)")
    p.add_argument("--reports-port", type=int, default=None,
                   help="port serwera raportów na 127.0.0.1 (domyślnie zmienna CUS_REPORTS_PORT albo 3001)")
    p.add_argument("--demo", action="store_true",
                   help="klucz pseudonimizacji DEMO (tylko dla hurtowni zbudowanej przez cus demo)")
    p.set_defaults(func=cmd_ui)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    from assets.publish import PublishError
    from core.key_fingerprint import KeyMismatchError
    from core.registry import RegistryError
    from core.settings import SettingsError
    from pipelines.tools.rotate_check import RotationError
    from pipelines.tools.sql_shell import SqlError
    from pipelines.tools.ui import UiError

    return CliError, PublishError, RegistryError, SqlError, SettingsError, KeyMismatchError, RotationError, UiError


def main(argv: list[str] | None = None) -> int:
    apply_defaults()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("Przerwano.")
        return 130
    except Exception as error:  # one line for the coordinator, the traceback only on request
        if os.environ.get("CUS_DEBUG"):
            raise
        if isinstance(error, _known_errors()):
            print(f"Błąd: {error}", file=sys.stderr)
        else:
            print(f"Błąd: {type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
                  " (szczegóły: CUS_DEBUG=1)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
