"""Read one landing file (CSV or XLSX) into a frame of text cells named by the contract.

Everything a provider's tool may do to a file is taken in stride here: Windows-1250 or UTF-8
(with or without BOM), `;`/`,`/tab separators, a header block above the table, extra columns,
trailing empty rows, headers with other spelling (aliases). What cannot be read is a
`LandingFileError` whose message (in Polish, for the provider) names the file and the fix.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.contract import Column, Dataset, normalize_label

HEADER_SEARCH_ROWS = 30


class LandingFileError(Exception):
    """A file-level problem: the whole file is refused and earlier data stays as it was."""

    def __init__(self, path: Path | str, problem: str, fix: str):
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"Plik {self.path}: {problem} Co zrobić: {fix}")


@dataclass
class LandingTable:
    """The cells of one file as text, with the contract's column names and file row numbers."""

    path: Path
    sha256: str
    size_bytes: int
    encoding: str
    frame: pl.DataFrame  # columns: row_number + stored contract columns (Utf8)
    ignored_columns: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """UTF-8 (BOM allowed) first, then Windows-1250; anything else is refused."""
    if b"\x00" in data[:4096]:
        raise LandingFileError(path, "plik nie jest plikiem tekstowym CSV (zawiera bajty binarne).",
                               "Zapisz plik jako CSV (UTF-8 lub Windows-1250) albo dostarcz go jako .xlsx.")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1250"), "windows-1250"
    except UnicodeDecodeError as exc:
        raise LandingFileError(path, f"nie można odczytać kodowania znaków (bajt {exc.start}).",
                               "Zapisz plik w kodowaniu UTF-8 lub Windows-1250.") from exc


def _sniff_separator(lines: list[str]) -> str:
    sample = "\n".join(lines)
    counts = {sep: sample.count(sep) for sep in (";", "\t", ",")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _match_headers(cells: list[str | None], dataset: Dataset) -> dict[int, Column]:
    lookup = dataset.header_lookup()
    matched: dict[int, Column] = {}
    for position, cell in enumerate(cells):
        if cell is None:
            continue
        column = lookup.get(normalize_label(cell))
        if column is not None and column not in matched.values():
            matched[position] = column
    return matched


def _find_header_row(rows: list[list[str | None]], dataset: Dataset, path: Path) -> int:
    best_index, best_count = -1, 0
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = len(_match_headers(cells, dataset))
        if count > best_count:
            best_index, best_count = index, count
    if best_index < 0:
        expected = ", ".join(c.header for c in dataset.columns if c.required)
        raise LandingFileError(path, "nie znaleziono wiersza nagłówków tabeli.",
                               f"Pierwszy wiersz tabeli musi zawierać nagłówki kolumn, m.in.: {expected}. "
                               "Użyj szablonu z polecenia `cus templates`.")
    return best_index


def _read_csv_cells(path: Path, data: bytes) -> tuple[list[list[str | None]], str, str, str]:
    text, encoding = decode_text(path, data)
    head_lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    separator = _sniff_separator(head_lines)
    head_rows = [[c if c.strip() else None for c in row] for row in csv.reader(head_lines, delimiter=separator)]
    return head_rows, text, encoding, separator


def _frame_from_csv(text: str, separator: str, skip_lines: int, width: int) -> pl.DataFrame:
    return pl.read_csv(
        io.BytesIO(text.encode("utf-8")),
        separator=separator,
        has_header=False,
        skip_rows=skip_lines,
        infer_schema=False,
        truncate_ragged_lines=True,
        new_columns=[f"c{i}" for i in range(width)],
        quote_char='"',
    )


def _frame_from_xlsx(path: Path) -> pl.DataFrame:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
    except Exception as exc:  # fastexcel raises its own error types for corrupt files
        raise LandingFileError(path, f"nie można otworzyć pliku Excel ({type(exc).__name__}).",
                               "Sprawdź, czy plik jest poprawnym plikiem .xlsx (zapisz go ponownie w Excelu) "
                               "albo dostarcz dane jako CSV.") from exc
    frame = sheet.to_polars()
    return frame.rename({name: f"c{i}" for i, name in enumerate(frame.columns)})


def read_landing_file(path: Path, dataset: Dataset) -> LandingTable:
    """Read `path` as `dataset`; raise LandingFileError for anything that is not a readable table."""
    path = Path(path)
    data = path.read_bytes()
    if not data.strip():
        raise LandingFileError(path, "plik jest pusty.", "Prześlij plik z wierszem nagłówków i danymi.")
    sha256 = hashlib.sha256(data).hexdigest()

    if path.suffix.lower() == ".xlsx":
        cells = _frame_from_xlsx(path)
        encoding = "xlsx"
        rows = [list(r) for r in cells.head(HEADER_SEARCH_ROWS).iter_rows()]
        header_index = _find_header_row(rows, dataset, path)
        body = cells.slice(header_index + 1)
        first_row_number = header_index + 2  # 1-based sheet row of the first data row
        header_cells = rows[header_index]
    else:
        head_rows, text, encoding, separator = _read_csv_cells(path, data)
        if not head_rows:
            raise LandingFileError(path, "plik jest pusty.", "Prześlij plik z wierszem nagłówków i danymi.")
        header_index = _find_header_row(head_rows, dataset, path)
        header_cells = head_rows[header_index]
        body = _frame_from_csv(text, separator, header_index + 1, len(header_cells))
        first_row_number = header_index + 2

    matched = _match_headers(header_cells, dataset)
    missing_required = [c.header for c in dataset.columns if c.required and c not in matched.values()]
    if missing_required:
        raise LandingFileError(path, f"brak wymaganych kolumn: {', '.join(missing_required)}.",
                               "Dodaj brakujące kolumny z nagłówkami jak w szablonie (`cus templates`) "
                               "i prześlij plik ponownie.")
    ignored = [str(c) for i, c in enumerate(header_cells) if c is not None and i not in matched]

    body = body.with_row_index("row_number", offset=first_row_number)
    # Trailing or spacer rows (every cell of the table empty) are not data; anything else is kept.
    all_cells = [f"c{i}" for i in range(len(header_cells)) if f"c{i}" in body.columns]
    blank = pl.all_horizontal(pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") == "" for c in all_cells)
    body = body.filter(~blank)
    if body.height == 0:
        raise LandingFileError(path, "plik nie zawiera żadnych wierszy danych pod nagłówkiem.",
                               "Uzupełnij dane albo nie przesyłaj pliku za ten kwartał.")
    present = {column.name: position for position, column in matched.items()}
    selected = [pl.col("row_number").cast(pl.Int64)]
    for column in dataset.stored_columns:
        if column.name in present:
            expr = pl.col(f"c{present[column.name]}").cast(pl.Utf8).str.strip_chars()
            selected.append(pl.when(expr == "").then(None).otherwise(expr).alias(column.name))
        else:
            selected.append(pl.lit(None, dtype=pl.Utf8).alias(column.name))
    frame = body.select(selected)
    missing_optional = [c.header for c in dataset.stored_columns if c.name not in present]
    return LandingTable(path=path, sha256=sha256, size_bytes=len(data), encoding=encoding, frame=frame,
                        ignored_columns=ignored, missing_optional=missing_optional)

