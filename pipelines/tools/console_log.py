"""The console of the CLI's in-process runs: what the steps themselves warn about, one line each.

Dagster's default console logger prints every event of WARNING level and above with its stack trace
(a refused file: ~40 lines of an English traceback around the Polish message). The runner prints each
run's outcome itself — one line, and the failure's Polish message (`runner._failure_text`) — so this
logger shows only the warnings the steps log (`context.log.warning`), without Dagster's events, each
as its first line. The full history stays in the Dagster UI (DAGSTER_HOME).
"""

from __future__ import annotations

import logging
import sys

import dagster as dg


class _StepMessages(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None) or {}
        # warnings only: a step's failure (and Dagster's English "Dependencies … failed" after it) is the
        # runner's one line
        return record.levelno == logging.WARNING and meta.get("dagster_event") is None


class _FirstLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", None) or {}
        text = str(meta.get("orig_message") or record.getMessage()).strip()
        return f"  Uwaga: {text.splitlines()[0] if text else ''}"


@dg.logger(description="Konsola cus: ostrzeżenia kroków, po jednym wierszu (bez zdarzeń i śladów stosu Dagster).")
def cli_console(_init_context) -> logging.Logger:
    log = logging.Logger("cus-cli", level=logging.WARNING)  # not registered: a fresh one per run
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_StepMessages())
    handler.setFormatter(_FirstLine())
    log.addHandler(handler)
    return log
