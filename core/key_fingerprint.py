"""The fingerprint of the pseudonym key a warehouse was built with (docs/settlement.md).

Pseudonyms made with two keys never match, so one warehouse holds the pseudonyms of exactly one
key: the first pseudonymising write records `raw.pseudonym_key` (a keyed digest of a fixed text,
which reveals nothing about the key), and every later one with another key is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import duckdb

from core.warehouse import table_exists

FINGERPRINT_TEXT = b"cus-pseudonym-key-fingerprint-v1"


class KeyMismatchError(Exception):
    """The warehouse was built with another pseudonym key."""


def key_fingerprint(key: bytes) -> str:
    return hmac.new(key, FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:32]


MISMATCH = (
    "Hurtownia {warehouse} została zbudowana z innym kluczem pseudonimizacji (odcisk {stored}, bieżący klucz: "
    "{current}). Z innym kluczem ta sama osoba dostałaby inny pseudonim niż w pozostałych partycjach, więc nic nie "
    "zapisano. Ustaw w CUS_PSEUDONYM_KEY klucz, z którym zbudowano hurtownię; zmiana klucza: docs/settlement.md "
    "(„Zmiana klucza”)."
)


def stored_fingerprint(conn: duckdb.DuckDBPyConnection) -> str | None:
    if not table_exists(conn, "raw", "pseudonym_key"):
        return None
    row = conn.execute("SELECT fingerprint FROM raw.pseudonym_key").fetchone()
    return row[0] if row else None


def ensure_key_fingerprint(conn: duckdb.DuckDBPyConnection, key: bytes, warehouse: str = "") -> None:
    """Record the key's fingerprint on the first write; refuse another key (KeyMismatchError)."""
    current = key_fingerprint(key)
    stored = stored_fingerprint(conn)
    if stored is None:
        conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
        conn.execute("CREATE TABLE IF NOT EXISTS raw.pseudonym_key (fingerprint VARCHAR NOT NULL, "
                     "recorded_at TIMESTAMP NOT NULL)")
        conn.execute("DELETE FROM raw.pseudonym_key")
        conn.execute("INSERT INTO raw.pseudonym_key VALUES (?, ?)", [current, datetime.now().replace(microsecond=0)])
        return
    if stored != current:
        raise KeyMismatchError(MISMATCH.format(warehouse=warehouse or "", stored=stored[:8], current=current[:8]))


def check_warehouse_key(warehouse_file, key: bytes) -> None:
    """Read-only check before a command starts (the CLI): refuse a key other than the warehouse's."""
    from pathlib import Path

    if not Path(warehouse_file).is_file():
        return
    with duckdb.connect(str(warehouse_file), read_only=True) as conn:
        stored = stored_fingerprint(conn)
    if stored is not None and stored != key_fingerprint(key):
        raise KeyMismatchError(MISMATCH.format(warehouse=warehouse_file, stored=stored[:8],
                                               current=key_fingerprint(key)[:8]))
