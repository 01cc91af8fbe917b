"""Benchmark of the staging validation: Great Expectations import and per-partition validation time.

    .venv/bin/python benchmarks/staging_validation.py [rows ...]

Prints seconds; validates synthetic deliveries partitions (one bad row each) with the real rules.
"""

import os
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import polars as pl  # noqa: E402


def deliveries_partition(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"i": range(rows)}).select(
        pl.lit("elblag").alias("unit"), pl.lit("2021Q3").alias("quarter"),
        pl.lit("elblag/2021Q3/swiadczenia.csv").alias("source_file"), pl.lit("0" * 64).alias("file_sha256"),
        (pl.col("i") + 2).cast(pl.Int64).alias("row_number"), pl.lit(datetime(2021, 10, 1)).alias("loaded_at"),
        pl.format("ELB/{}", pl.col("i") % 1500).alias("participant_id"),
        pl.when(pl.col("i") == rows // 2).then(pl.lit("BRAK")).otherwise(pl.lit("OPK")).alias("service_code"),
        (pl.lit("2021-07-01").str.to_date() + pl.duration(days=pl.col("i") % 92)).dt.strftime("%d.%m.%Y")
        .alias("delivery_date"),
        pl.lit("1").alias("units"), pl.lit("50,00").alias("value"), pl.format("IPUS/{}", pl.col("i")).alias("ipus_no"),
    )


def main(sizes: list[int]) -> None:
    start = time.perf_counter()
    import great_expectations  # noqa: F401

    print(f"import great_expectations: {time.perf_counter() - start:.2f} s")
    from assets.staging.validate import validate_partition
    from core.contract import dataset
    from core.registry import unit_by_key

    references = {"known_participants": [f"ELB/{i}" for i in range(1500)], "service_catalogue": ["OPK", "FIZ"]}
    unit = unit_by_key("elblag")
    for rows in sizes:
        raw = deliveries_partition(rows)
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            result = validate_partition(dataset("deliveries"), raw, unit, "2021Q3", references)
            timings.append(time.perf_counter() - start)
        print(f"deliveries {rows:>7} rows: first {timings[0]:.2f} s, then {min(timings[1:]):.2f} s "
              f"(accepted {result.summary['accepted']}, quarantined {result.summary['quarantined']})")

    read_csv_timings(sizes)


def read_csv_timings(sizes: list[int]) -> None:
    """Reading an expenses CSV (csv.reader, quotes inside text) of each size: the raw step's parse."""
    import tempfile

    from assets.raw.landing_file import read_landing_file
    from core.contract import dataset

    expenses = dataset("expenses")
    header = ";".join(c.header for c in expenses.columns)
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            path = Path(folder) / f"wydatki_{rows}.csv"
            quoted = 'Firma "ABC" sp. z o.o.'
            lines = [header] + [
                f"FV/{i};5260001246;04.03.2021;05.03.2021;1;1.1;{quoted if i % 7 == 0 else 'Usługa'};"
                "123,00;100,00;123,00;23,00;N;N;N" for i in range(rows)]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            start = time.perf_counter()
            table = read_landing_file(path, expenses)
            print(f"read wydatki.csv {rows:>7} rows: {time.perf_counter() - start:.2f} s ({table.frame.height} rows)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [3_000, 60_000, 100_000])
