"""`cus` — the coordinator's command line (the same work as the Dagster UI, without it).

    cus demo                       sample data + the whole pipeline (README's first command)
    cus sample [--out DIR]         write the deterministic sample landing files
    cus run [--unit U] [--quarter Q]   ingest + validate what has landed, then indicators and reports
    cus ingest --unit U --quarter Q    re-run one unit × quarter after a correction
    cus templates [--out DIR]      blank XLSX templates for data providers
    cus ui                         open the Dagster UI (dagster dev) on this project

Errors are printed as one clear line and the command exits with status 1 (no traceback).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from pipelines.settings import apply_defaults


def _abs(path: str) -> Path:
    from pipelines.paths import PROJECT_ROOT

    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate


def _context():
    """(definitions, instance, units, landing root) for the current environment."""
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.registry import REGISTRY_PATH, load_units

    registry = Path(os.environ.get("CUS_REGISTRY") or REGISTRY_PATH)
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return build_definitions(registry), dg.DagsterInstance.get(), list(load_units(registry)), _abs(os.environ["CUS_LANDING"])


def _select_units(units, wanted: str | None):
    if not wanted:
        return units
    chosen = [u for u in units if u.key == wanted]
    if not chosen:
        raise SystemExit(f"Nieznana jednostka {wanted!r}; znane: {', '.join(u.key for u in units)}")
    return chosen


def _parse_quarter_arg(text: str | None) -> list[str] | None:
    from pipelines.quarters import parse_quarter

    if not text:
        return None
    quarter = parse_quarter(text)
    if quarter is None:
        raise SystemExit(f"Nieprawidłowy kwartał {text!r}: podaj np. 2021Q1")
    return [quarter]


def _finish(summary) -> int:
    print(f"\nGotowe: {len(summary.succeeded)} przebiegów udanych, {len(summary.failed)} z błędami.")
    for label, message in summary.failed:
        print(f"  ✗ {label}: {message}")
    return 0 if summary.ok else 1


def cmd_sample(args) -> int:
    from pipelines.sample_data import generate

    out = _abs(args.out or os.environ["CUS_LANDING"])
    if out.exists() and args.fresh:
        shutil.rmtree(out)
    summary = generate(out, seed=args.seed, units=args.units, scale=args.scale)
    print(f"Dane przykładowe zapisane w {out}")
    return 0 if summary is not None else 1


def cmd_run(args) -> int:
    from pipelines.runner import run_pipeline

    defs, instance, units, landing = _context()
    summary = run_pipeline(defs, instance, _select_units(units, args.unit), landing,
                           quarters=_parse_quarter_arg(args.quarter), with_reports=not args.no_reports)
    return _finish(summary)


def cmd_ingest(args) -> int:
    from pipelines.runner import run_pipeline

    defs, instance, units, landing = _context()
    summary = run_pipeline(defs, instance, _select_units(units, args.unit), landing,
                           quarters=_parse_quarter_arg(args.quarter), with_reports=False)
    return _finish(summary)


def cmd_demo(args) -> int:
    from pipelines.resources import DEMO_KEY_PREFIX

    landing = _abs(os.environ["CUS_LANDING"])
    if os.environ.get("CUS_PSEUDONYM_KEY", "").startswith(DEMO_KEY_PREFIX):
        print("Uwaga: klucz pseudonimizacji DEMO (z pliku .env) — tylko dla danych przykładowych.")
    if not landing.exists():
        args.out, args.fresh, args.seed, args.units, args.scale = None, False, 2028, None, 1.0
        cmd_sample(args)
    args.unit, args.quarter, args.no_reports = None, None, False
    code = cmd_run(args)
    print(f"\nHurtownia: {_abs(os.environ['CUS_WAREHOUSE'])}\nRaporty:   {_abs(os.environ['CUS_REPORTS'])}"
          "\nInterfejs: make ui (Dagster UI na http://127.0.0.1:3000)")
    return code


def cmd_templates(args) -> int:
    from pipelines.templates import write_templates

    paths = write_templates(_abs(args.out))
    for path in paths:
        print(path)
    return 0


def cmd_ui(args) -> int:
    from pipelines.paths import PROJECT_ROOT

    os.chdir(PROJECT_ROOT)
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(str(dagster), [str(dagster), "dev", "-w", "workspace.yaml", "-h", args.host, "-p", str(args.port)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cus", description="Rozliczanie i monitoring projektów CUS (POWER 2.8).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="dane przykładowe + cały potok (ingest → walidacja → wskaźniki → raporty)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sample", help="zapisz deterministyczne dane przykładowe do folderu landing")
    p.add_argument("--out", help="folder docelowy (domyślnie CUS_LANDING)")
    p.add_argument("--seed", type=int, default=2028)
    p.add_argument("--units", type=int, default=None, help="liczba jednostek (progi skali z DESIGN.md §5)")
    p.add_argument("--scale", type=float, default=1.0, help="mnożnik wielkości danych (10 ≈ próg 'pilot')")
    p.add_argument("--fresh", action="store_true", help="usuń najpierw istniejący folder")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("run", help="wczytaj, zwaliduj, przelicz wskaźniki i raporty dla tego, co dotarło")
    p.add_argument("--unit")
    p.add_argument("--quarter", help="np. 2021Q1")
    p.add_argument("--no-reports", action="store_true")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ingest", help="ponownie wczytaj jednostkę × kwartał (po korekcie pliku) i przelicz wskaźniki")
    p.add_argument("--unit", required=True)
    p.add_argument("--quarter", required=True, help="np. 2021Q1")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("templates", help="puste szablony XLSX dla dostawców danych")
    p.add_argument("--out", default="data/templates")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("ui", help="uruchom interfejs Dagster (dagster dev)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    apply_defaults()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("Przerwano.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
