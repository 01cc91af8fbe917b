"""argparse in Polish for the `cus` CLI: usage/options headings, -h text and the error messages.

argparse has no Polish catalogue; rather than patching its module-level gettext for the whole
process, the parser class sets its own headings and translates the handful of errors it raises.
"""

from __future__ import annotations

import argparse
import re
import sys

USAGE_PREFIX = "użycie: "
HELP_TEXT = "pokaż tę pomoc i zakończ"

# argparse error texts (Python 3.11) -> Polish; the first match wins, unknown texts pass unchanged.
ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"^the following arguments are required: (.*)$", r"brak wymaganych argumentów: \1"),
    (r"^unrecognized arguments: (.*)$", r"nieznane argumenty: \1"),
    (r"^argument (.+?): invalid choice: (.*) \(choose from (.*)\)$", r"argument \1: nieznana wartość \2 (do wyboru: \3)"),
    (r"^argument (.+?): invalid (int|float) value: (.*)$", r"argument \1: \3 nie jest liczbą"),
    (r"^argument (.+?): invalid (\w+) value: (.*)$", r"argument \1: nieprawidłowa wartość \3"),
    (r"^argument (.+?): expected one argument$", r"argument \1: brak wartości"),
    (r"^argument (.+?): expected (.*) arguments?$", r"argument \1: oczekiwano argumentów: \2"),
    (r"^argument (.+?): ignored explicit argument (.*)$", r"argument \1: zbędna wartość \2"),
    (r"^ambiguous option: (.+?) could match (.*)$", r"niejednoznaczna opcja \1 — pasuje do: \2"),
    (r"^argument (.+?): not allowed with argument (.*)$", r"argument \1: nie można użyć razem z \2"),
))


# Value placeholders shown in usage and help (argparse would print the option name upper-cased in English).
METAVARS = {"unit": "JEDNOSTKA", "quarter": "KWARTAŁ", "out": "FOLDER", "seed": "ZIARNO", "units": "LICZBA",
            "scale": "MNOŻNIK", "max_rows": "N", "query": "zapytanie", "host": "ADRES", "port": "PORT",
            "reports_port": "PORT"}


def translate_error(message: str) -> str:
    for pattern, replacement in ERRORS:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


class _PolishUsage:
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, USAGE_PREFIX if prefix is None else prefix)


class PolishArgumentParser(argparse.ArgumentParser):
    """ArgumentParser with Polish headings ('użycie:', 'opcje:', 'argumenty pozycyjne:'), -h and errors.

    Subcommand parsers are of the same class (argparse's default `parser_class`)."""

    def __init__(self, *args, formatter_class=argparse.HelpFormatter, add_help: bool = True, **kwargs):
        polish = type(f"Polish{formatter_class.__name__}", (_PolishUsage, formatter_class), {})
        super().__init__(*args, formatter_class=polish, add_help=False, **kwargs)
        self._positionals.title = "argumenty pozycyjne"
        self._optionals.title = "opcje"
        if add_help:
            self.add_argument("-h", "--help", action="help", help=HELP_TEXT)

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        if action.metavar is None and action.nargs != 0 and action.dest in METAVARS:
            action.metavar = METAVARS[action.dest]
        return action

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: błąd: {translate_error(message)}\n")
