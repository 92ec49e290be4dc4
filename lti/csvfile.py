"""The one CSV writer of the tool: every export goes through write_csv, every cell through safe_cell.

Roster names, e-mail addresses and user names come from the platform (people choose their own names),
group names from teachers; a cell such as `=HYPERLINK(…)` or `@SUM(…)` would run as a formula when the
file is opened in a spreadsheet. OWASP's rule: a cell that begins with = + - @, a tab or a carriage
return gets a leading single quote, which spreadsheets take as "text" and do not show. The full-width
forms of = + - @ are treated alike (spreadsheets in East Asian locales read them as formula signs).

What this costs: Moodle's group import and upload-users read the files literally, so a legitimate
value beginning with such a sign (a group named "-Nord-", an address "+team@…") arrives in Moodle with
the quote. That is rare and visible in Moodle's preview; a formula run on a teacher's computer is
neither. Plain numbers (`-3`, `+49`, `2,5`) are not formulas and stay as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
