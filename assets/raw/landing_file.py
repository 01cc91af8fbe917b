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
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from core.contract import Column, Dataset, normalize_label

HEADER_SEARCH_ROWS = 30
# Per-row problem of reading the file (a raw column, checked by the `extra_fields` rule): NULL = none.
READ_ERROR = "read_error"


class LandingFileError(Exception):
    """A file-level problem: the whole file is refused and earlier data stays as it was."""

    def __init__(self, path: Path | str, problem: str, fix: str):
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"Plik {self.path}: {problem} Co zrobić: {fix}")

    def __reduce__(self):  # pickled back from a reading worker process (assets/batch/ingest.py)
        return type(self), (self.path, self.problem, self.fix)


@dataclass
class LandingTable:
    """The cells of one file as text, with the contract's column names and file row numbers."""

    path: Path
    sha256: str
    size_bytes: int
    encoding: str
    frame: pl.DataFrame  # columns: row_number + stored contract columns (Utf8) + read_error
    ignored_columns: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    totals_rows: list[int] = field(default_factory=list)  # totals rows ("Razem") skipped, file row numbers
    header_block: list[list] | None = None  # the rows above the header row (project / agreement lines)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


ENCODINGS_TRIED = "UTF-8 (z BOM lub bez), UTF-16 z BOM, Windows-1250"


def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """UTF-16 with a BOM, then UTF-8 (BOM allowed), then Windows-1250; anything else is refused
    with a message naming the encodings tried."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 LE / BE byte-order mark (Excel "Unicode text")
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise LandingFileError(path, f"plik z oznaczeniem UTF-16 (BOM) nie daje się odczytać (bajt {exc.start}).",
                                   f"Zapisz plik ponownie jako CSV; odczytywane kodowania: {ENCODINGS_TRIED}.") from exc
    if b"\x00" in data[:4096]:
        raise LandingFileError(path, "plik nie jest plikiem tekstowym CSV (zawiera bajty binarne, a nie ma "
                               f"oznaczenia UTF-16 BOM); próbowano kodowań: {ENCODINGS_TRIED}.",
                               "Zapisz plik jako CSV (UTF-8 lub Windows-1250) albo dostarcz go jako .xlsx.")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1250"), "windows-1250"
    except UnicodeDecodeError as exc:
        raise LandingFileError(path, f"nie można odczytać kodowania znaków (bajt {exc.start}); próbowano kodowań: "
                               f"{ENCODINGS_TRIED}.", "Zapisz plik w kodowaniu UTF-8 lub Windows-1250.") from exc


# A totals row of an accounting export: a cell starting with one of these words, the identifiers empty.
TOTALS_WORDS = ("razem", "suma", "ogółem", "ogolem")


def totals_note(rows: list[int]) -> str:
    """The note for the coordinator about skipped totals rows (`—` when none)."""
    if not rows:
        return "—"
    return (f"wiersz {', '.join(map(str, rows))} to podsumowanie („Razem”/„Suma”/„Ogółem” bez identyfikatorów) "
            "— pominięty, nie jest dokumentem")


def _totals_rows(body: pl.DataFrame, cells: list[str], dataset: Dataset, present: dict[str, int]) -> list[int]:
    """Row numbers of the totals rows at the end of the table ("Razem", "Suma", "Ogółem" with the
    required text/date columns empty): not data, skipped with a note (docs/settlement.md)."""
    required_text = [f"c{present[c.name]}" for c in dataset.stored_columns
                     if c.required and c.type not in ("decimal", "integer") and c.name in present]
    pattern = re.compile(r"^\s*(" + "|".join(TOTALS_WORDS) + r")\b", re.IGNORECASE)
    found = []
    for row in _last_rows_first(body.select(["row_number"] + cells)):
        texts = [str(row[c]).strip() for c in cells if row[c] is not None and str(row[c]).strip()]
        worded = [c for c in cells if row[c] is not None and pattern.match(str(row[c]))]
        if not worded:
            break
        if any(row[c] is not None and str(row[c]).strip() and c not in worded for c in required_text) or not texts:
            break
        found.append(row["row_number"])
    return sorted(found)


def _last_rows_first(frame: pl.DataFrame, step: int = 16):
    """The rows from the last one up, as dicts, a few at a time (only the end of a table is looked at)."""
    end = frame.height
    while end > 0:
        start = max(0, end - step)
        yield from reversed(frame.slice(start, end - start).rows(named=True))
        end = start


def _sniff_separator(lines: list[str]) -> str:
    sample = "\n".join(lines)
    counts = {sep: sample.count(sep) for sep in (";", "\t", ",")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _match_headers(cells: list[str | None], dataset: Dataset, lookup: dict[str, Column] | None = None
                   ) -> dict[int, Column]:
    lookup = lookup or dataset.header_lookup()
    matched: dict[int, Column] = {}
    for position, cell in enumerate(cells):
        if cell is None:
            continue
        column = lookup.get(normalize_label(cell))
        if column is not None and column not in matched.values():
            matched[position] = column
    return matched


def _find_header_row(rows: list[list[str | None]], dataset: Dataset, path: Path) -> int:
    """The first of the top rows that names the most of the dataset's columns."""
    lookup = dataset.header_lookup()
    best_index, best_count = -1, 0
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = len(_match_headers(cells, dataset, lookup))
        if count > best_count:
            best_index, best_count = index, count
            if count == len(dataset.columns):  # every column named: no later row can name more
                break
    if best_index < 0:
        expected = ", ".join(c.header for c in dataset.columns if c.required)
        raise LandingFileError(path, "nie znaleziono wiersza nagłówków tabeli.",
                               f"Pierwszy wiersz tabeli musi zawierać nagłówki kolumn, m.in.: {expected}. "
                               "Użyj szablonu z polecenia `cus templates`.")
    return best_index


def csv_lines(text: str) -> list[str]:
    """Physical lines with their terminators, split on LF, CRLF and CR alone (old Mac exports)."""
    return io.StringIO(text, newline="").readlines()


def _unquote(cell: str) -> str:
    """`"a ""b"" c"` -> `a "b" c`; a cell that is not one well-formed quoted value stays as it is."""
    inner = cell[1:-1]
    if len(cell) >= 2 and cell[0] == cell[-1] == '"' and '"' not in inner.replace('""', ""):
        return inner.replace('""', '"')
    return cell


def _parse_line(line: str, separator: str, width: int | None = None) -> list[str]:
    """One physical line as a record on its own (a stray quote cannot swallow the next lines).

    Well-formed CSV quoting first; a line where it fails (`"ABC" sp. z o.o.`, an unclosed
    `"ABC…`) or, with `width`, does not give the header's columns is split at every separator
    with the quotes kept as text when that gives them; otherwise the lenient reader's reading.
    """
    try:
        strict = next(csv.reader([line], delimiter=separator, strict=True), [])
    except csv.Error:
        strict = None
    if strict is not None and (width is None or _fits(strict, width)):
        return strict
    plain = [_unquote(c) for c in line.rstrip("\r\n").split(separator)]
    if width is None or _fits(plain, width):
        return plain
    if strict is not None:
        return strict
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:  # e.g. a field over csv.field_size_limit
        return plain


def _fits(record: list[str], width: int) -> bool:
    """The record has the header's columns (trailing empty cells beyond it allowed)."""
    return len(record) >= width and not any(c.strip() for c in record[width:])


def _is_blank(record: list[str]) -> bool:
    return not any(c.strip() for c in record)


def csv_head_rows(text: str) -> tuple[list[str], list[list[str | None]], str]:
    """(physical lines, the first HEADER_SEARCH_ROWS lines as cells, separator): one parse for every caller."""
    lines = csv_lines(text)
    head_lines = lines[:HEADER_SEARCH_ROWS]
    separator = _sniff_separator([line.rstrip("\r\n") for line in head_lines])
    head_rows = [[c if c.strip() else None for c in _parse_line(line, separator)] for line in head_lines]
    return lines, head_rows, separator


class _LineFeed:
    """The lines the csv reader consumes, with the position of the next one (readers can restart)."""

    def __init__(self, lines: list[str], position: int):
        self.lines, self.position = lines, position

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.position >= len(self.lines):
            raise StopIteration
        self.position += 1
        return self.lines[self.position - 1]


def _csv_records(lines: list[str], start: int, separator: str, width: int, has_quotes: bool = True) -> list[list[str]]:
    """The records from line `start` on, one per table row, in file order (blank lines included).

    Python's csv reader in strict mode: quoted fields may hold the separator, doubled quotes and
    line breaks; a quote inside an unquoted field (`Monitor 24"`) is text. A line where the strict
    reader fails (a quoted field followed by text, an unclosed quote) is read on its own
    (`_parse_line`) and the reader restarts on the next line; a record spanning lines that does
    not have the header's columns is re-read line by line. So a stray quote never swallows the
    rows after it.
    """
    try:  # the fast path: well-formed CSV where every line is one record (C speed)
        records = list(csv.reader(itertools.islice(lines, start, None), delimiter=separator, strict=has_quotes))
        if len(records) == len(lines) - start:
            return records
    except csv.Error:
        pass
    records: list[list[str]] = []
    feed = _LineFeed(lines, start)
    while feed.position < len(lines):
        first = feed.position
        reader = csv.reader(feed, delimiter=separator, strict=True)
        try:
            for record in reader:
                last = feed.position
                if last - first > 1 and not _fits(record, width):
                    # quoted line breaks that do not make a table row: a quote left open swallowed the
                    # lines after it — each line is a row again (a bad one is quarantined, none lost)
                    records.extend(_parse_line(line, separator, width) for line in lines[first:last])
                else:
                    records.append(record)
                first = last
        except csv.Error:  # the record starting at `first` is not valid CSV: that line alone, then go on
            records.append(_parse_line(lines[first], separator, width))
            feed.position = first + 1
    return records


EXTRA_FIELDS = "{fields} pól zamiast {width}"


def _normalize_records(records: list[list[str]], width: int, short_is_error: bool = False) -> list[str | None]:
    """Pad short records with empty cells, cut long ones to the header; the read error of each record.

    A record is an `extra_fields` error (values shifted: an unquoted separator inside a text) when a
    cell beyond the header is not empty, or it has more cells than both the header and the file's
    usual row (e.g. `…;tekst; z średnikiem;…;` whose last cell happens to be empty). With
    `short_is_error` (a file with personal data columns: a missing cell would shift a name or a phone
    number into a stored column) a record shorter than the file's usual row is one too.
    """
    lengths = list(map(len, records))
    errors: list[str | None] = [None] * len(records)
    odd = [i for i, size in enumerate(lengths) if size != width]
    usual = None
    for index in odd:
        record, size = records[index], lengths[index]
        if usual is None:
            counts = Counter(n for n in lengths if n)
            usual = counts.most_common(1)[0][0]
        if size < width:
            if short_is_error and size < usual and not _is_blank(record):
                errors[index] = EXTRA_FIELDS.format(fields=size, width=width)
            record.extend([""] * (width - size))
            continue
        if not _is_blank(record) and (not _is_blank(record[width:]) or size > max(usual, width)):
            filled = max(i for i, c in enumerate(record) if c.strip()) + 1
            errors[index] = EXTRA_FIELDS.format(fields=filled if filled > width else size, width=width)
        del record[width:]
    return errors


def _frame_from_records(records: list[list[str]], width: int) -> pl.DataFrame:
    """Records of exactly `width` cells -> text columns c0..c<width-1> (built row-wise by polars: fast)."""
    schema = {f"c{i}": pl.Utf8 for i in range(width)}
    if not records:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(records, schema=schema, orient="row")


def _frame_from_xlsx(path: Path) -> pl.DataFrame:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        # skip_rows=0: keep leading empty rows, so row numbers are the sheet's (fastexcel drops them otherwise)
        sheet = reader.load_sheet(0, header_row=None, skip_rows=0, dtypes="string")
    except Exception as exc:  # fastexcel raises its own error types for corrupt files
        raise LandingFileError(path, f"nie można otworzyć pliku Excel ({type(exc).__name__}).",
                               "Sprawdź, czy plik jest poprawnym plikiem .xlsx (zapisz go ponownie w Excelu) "
                               "albo dostarcz dane jako CSV.") from exc
    frame = sheet.to_polars()
    return frame.rename({name: f"c{i}" for i, name in enumerate(frame.columns)})


def _header_width(cells: list[str | None]) -> int:
    """Header cells up to the last named one (`…;Usługa zlecona (T/N);` ends with an empty cell)."""
    named = [i for i, c in enumerate(cells) if c is not None and str(c).strip()]
    return named[-1] + 1 if named else 0


def _read_csv(path: Path, data: bytes, dataset: Dataset):
    text, encoding = decode_text(path, data)
    lines, head_rows, separator = csv_head_rows(text)
    if not head_rows:
        raise LandingFileError(path, "plik jest pusty.", "Prześlij plik z wierszem nagłówków i danymi.")
    header_index = _find_header_row(head_rows, dataset, path)
    header_cells = head_rows[header_index]
    width = _header_width(header_cells)
    header_cells = header_cells[:width]
    try:
        records = _csv_records(lines, header_index + 1, separator, width, has_quotes='"' in text)
        read_errors = _normalize_records(records, width, short_is_error=_has_dropped_columns(dataset))
        body = _frame_from_records(records, width)
    except LandingFileError:
        raise
    except Exception as exc:  # safety net: whatever else cannot be read is a file-level message, not a crash
        raise LandingFileError(path, f"nie można odczytać pliku CSV ({type(exc).__name__}).",
                               "Zapisz plik ponownie jako CSV (UTF-8 lub Windows-1250, separator ;) z arkusza "
                               "albo dostarcz go jako .xlsx (szablon z polecenia `cus templates`).") from exc
    body = body.with_columns(pl.Series(READ_ERROR, read_errors, dtype=pl.Utf8))
    return body, header_index, head_rows[:header_index], header_cells, encoding


@lru_cache(maxsize=256)  # the same few layouts in every file of a batch: expressions built once
def _kept_rows(cells: tuple[str, ...]) -> pl.Expr:
    """Trailing or spacer rows (every cell of the table empty) are not data; anything else is kept."""
    blank = pl.all_horizontal(pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") == "" for c in cells)
    return ~blank | pl.col(READ_ERROR).is_not_null()


def _has_dropped_columns(dataset: Dataset) -> bool:
    """The dataset has columns never read into the warehouse (names, contacts: `pii: drop`)."""
    return any(c.pii == "drop" for c in dataset.columns)


@lru_cache(maxsize=256)
def _stored_selection(dataset: Dataset, present: tuple[tuple[str, int], ...]) -> list[pl.Expr]:
    """row_number, every stored column of the contract (trimmed text, empty = null; a column the file
    lacks = null) and the read error, from the cells c0… at the columns' positions `present`. In a
    dataset with personal data columns a row with a read error keeps no values: its cells are shifted,
    so a name or a phone number could stand in a stored column (the row is quarantined by its error)."""
    positions = dict(present)
    aligned = pl.col(READ_ERROR).is_null() if _has_dropped_columns(dataset) else pl.lit(True)
    selected = [pl.col("row_number").cast(pl.Int64)]
    for column in dataset.stored_columns:
        if column.name in positions:
            expr = pl.col(f"c{positions[column.name]}").cast(pl.Utf8).str.strip_chars()
            selected.append(pl.when((expr == "") | ~aligned).then(None).otherwise(expr).alias(column.name))
        else:
            selected.append(pl.lit(None, dtype=pl.Utf8).alias(column.name))
    return selected + [pl.col(READ_ERROR)]


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
        body = cells.slice(header_index + 1).with_columns(pl.lit(None, dtype=pl.Utf8).alias(READ_ERROR))
        header_cells = rows[header_index]
        header_block = rows[:header_index]
    else:
        body, header_index, header_block, header_cells, encoding = _read_csv(path, data, dataset)
    first_row_number = header_index + 2  # 1-based row of the first data row (sheet row / CSV record)

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
    body = body.filter(_kept_rows(tuple(all_cells)))
    if body.height == 0:
        raise LandingFileError(path, "plik nie zawiera żadnych wierszy danych pod nagłówkiem.",
                               "Uzupełnij dane albo nie przesyłaj pliku za ten kwartał.")
    present = {column.name: position for position, column in matched.items()}
    totals = _totals_rows(body, all_cells, dataset, present)
    if totals:
        body = body.filter(~pl.col("row_number").is_in(totals))
        if body.height == 0:
            raise LandingFileError(path, "plik zawiera tylko wiersz podsumowania („Razem”), bez wierszy danych.",
                                   "Uzupełnij dane albo nie przesyłaj pliku za ten kwartał.")
    frame = body.select(_stored_selection(dataset, tuple(sorted(present.items()))))
    missing_optional = [c.header for c in dataset.stored_columns if c.name not in present]
    return LandingTable(path=path, sha256=sha256, size_bytes=len(data), encoding=encoding, frame=frame,
                        ignored_columns=ignored, missing_optional=missing_optional, totals_rows=totals,
                        header_block=header_block)
