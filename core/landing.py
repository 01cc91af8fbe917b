"""What lies under the landing root: the contract files in valid places, and everything else.

One scan (`scan_landing`) for the sensor, the CLI and the reports: every entry that is not a
contract file in a valid place is a `LandingProblem` with its path and the fix, never skipped in
silence (docs/settlement.md, "Pliki w folderze przyjęć"). Valid places:

    <root>/<unit>/<YYYY>Q<n>/<file>   quarter files, the quarter inside the unit's project period
    <root>/<unit>/umowa/<file>        agreement files

Hidden entries (names starting with "." or "~$": editor lock files, `.DS_Store`) are not data
and are not reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.contract import load_contract
from core.quarters import parse_quarter
from core.registry import Unit

AGREEMENT_FOLDER = "umowa"


@dataclass(frozen=True)
class LandingProblem:
    unit: str | None  # None: an entry at the landing root itself
    path: str  # relative to the landing root, with "/"
    problem: str  # Polish: why the entry is not read
    fix: str  # Polish: what the provider should do

    @property
    def message(self) -> str:
        return f"{self.path}: {self.problem} Co zrobić: {self.fix}"


@dataclass
class LandingScan:
    files: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)  # path -> (unit, quarter, dataset)
    problems: list[LandingProblem] = field(default_factory=list)

    def problems_of(self, unit_key: str) -> list[LandingProblem]:
        return [p for p in self.problems if p.unit == unit_key]


def _hidden(name: str) -> bool:
    return name.startswith((".", "~$"))


def _file_names(level: str) -> dict[str, str]:
    """lower-case file name -> dataset, for the datasets of one level (quarter | agreement)."""
    return {name.lower(): ds.name for ds in load_contract().values() if ds.level == level for name in ds.file_names()}


def _known_names(level: str) -> str:
    return ", ".join(sorted({n for n in _file_names(level)}))


def folder_problem(unit: Unit, name: str) -> tuple[str, str] | None:
    """(problem, fix) of a sub-folder of a unit's landing folder, or None when it is read."""
    if name == AGREEMENT_FOLDER:
        return None
    quarter = parse_quarter(name)
    if quarter is None:
        return ("folder nie jest czytany: to nie jest folder kwartału (RRRRQn, np. 2021Q3) ani folder umowy (umowa/).",
                f"Przenieś pliki kwartału do folderu {unit.key}/<RRRR>Q<n>/, a pliki umowy do {unit.key}/umowa/; "
                "folder, który nie zawiera danych do wczytania, usuń z folderu przyjęć.")
    if name != quarter:
        return (f"folder nie jest czytany: nazwa kwartału zapisana inaczej niż {quarter}.",
                f"Zmień nazwę folderu na {quarter}.")
    if quarter not in unit.quarters:
        return (f"folder nie jest czytany: kwartał {quarter} jest poza okresem projektu jednostki "
                f"({unit.quarters[0]}–{unit.quarters[-1]}).",
                "Sprawdź kwartał wniosku: dane spoza okresu projektu nie są rozliczane; przenieś pliki do właściwego "
                "kwartału albo usuń folder.")
    return None


def _file_problem(unit: Unit, relative: str, name: str, level: str) -> tuple[str, str]:
    """(problem, fix) of a file that is not a contract file of its folder's level."""
    stem, _, extension = name.rpartition(".")
    quarter_names, agreement_names = _file_names("quarter"), _file_names("agreement")
    here, other = (quarter_names, agreement_names) if level == "quarter" else (agreement_names, quarter_names)
    stems = {n.rpartition(".")[0]: n for n in here}
    if stem.lower() in stems:
        allowed = sorted(n for n in here if n.rpartition(".")[0] == stem.lower())
        return (f"plik nie jest czytany: rozszerzenie „.{extension}” nie jest obsługiwane.",
                f"Zapisz plik jako {' albo '.join(allowed)} (szablon: `cus templates`).")
    if name.lower() in other:
        target = f"{unit.key}/umowa/" if level == "quarter" else f"{unit.key}/<RRRR>Q<n>/ (kwartał wniosku)"
        return ("plik nie jest czytany: ten plik należy do innego folderu.", f"Przenieś plik do folderu {target}.")
    return (f"plik nie jest czytany: nieznana nazwa pliku (w tym folderze czytane są: {_known_names(level)}).",
            "Nadaj plikowi nazwę z kontraktu danych (szablon: `cus templates`) albo usuń go z folderu przyjęć.")


def _unit_root_file(unit: Unit, name: str) -> tuple[str, str]:
    lower = name.lower()
    if lower in _file_names("quarter"):
        return ("plik leży bezpośrednio w folderze jednostki, poza folderem kwartału — nie jest czytany.",
                f"Przenieś plik do folderu kwartału wniosku: {unit.key}/<RRRR>Q<n>/{name} (np. {unit.key}/"
                f"{unit.quarters[0]}/{name}).")
    if lower in _file_names("agreement"):
        return ("plik leży bezpośrednio w folderze jednostki, poza folderem umowy — nie jest czytany.",
                f"Przenieś plik do folderu {unit.key}/umowa/{name}.")
    return ("plik leży bezpośrednio w folderze jednostki — nie jest czytany.",
            f"Pliki kwartału umieść w {unit.key}/<RRRR>Q<n>/, pliki umowy w {unit.key}/umowa/, "
            "pozostałe usuń z folderu przyjęć.")


def scan_landing(root: Path, units: tuple[Unit, ...] | list[Unit]) -> LandingScan:
    """Every contract file in a valid place and a problem for everything else under `root`."""
    root = Path(root)
    scan = LandingScan()
    if not root.is_dir():
        return scan
    by_key = {u.key: u for u in units}
    quarter_names, agreement_names = _file_names("quarter"), _file_names("agreement")
    for entry in sorted(root.iterdir()):
        if _hidden(entry.name):
            continue
        unit = by_key.get(entry.name)
        if unit is None:
            scan.problems.append(LandingProblem(
                None, entry.name, "wpis nie jest czytany: to nie jest folder jednostki z rejestru "
                f"({', '.join(sorted(by_key))}).",
                "Umieść pliki w folderze jednostki <klucz jednostki>/ (klucz z config/units.yaml) albo dodaj jednostkę "
                "do rejestru."))
            continue
        if not entry.is_dir():
            continue
        for child in sorted(entry.iterdir()):
            if _hidden(child.name):
                continue
            relative = child.relative_to(root).as_posix()
            if child.is_file():
                scan.problems.append(LandingProblem(unit.key, relative, *_unit_root_file(unit, child.name)))
                continue
            problem = folder_problem(unit, child.name)
            if problem:
                scan.problems.append(LandingProblem(unit.key, relative + "/", *problem))
                continue
            level = "agreement" if child.name == AGREEMENT_FOLDER else "quarter"
            quarter = None if level == "agreement" else child.name
            names = agreement_names if level == "agreement" else quarter_names
            for file in sorted(child.iterdir()):
                if _hidden(file.name):
                    continue
                path = file.relative_to(root).as_posix()
                dataset = names.get(file.name.lower())
                if dataset and file.is_file():
                    scan.files[path] = (unit.key, quarter, dataset)
                elif file.is_dir():
                    scan.problems.append(LandingProblem(
                        unit.key, path + "/", "podfolder nie jest czytany (pliki muszą leżeć bezpośrednio w folderze "
                        f"{child.name}/).", f"Przenieś pliki do {unit.key}/{child.name}/ i usuń podfolder."))
                else:
                    scan.problems.append(LandingProblem(unit.key, path, *_file_problem(unit, path, file.name, level)))
    return scan
