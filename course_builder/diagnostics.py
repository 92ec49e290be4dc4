"""Diagnostics: what every loader and check returns, and how they are printed."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True, order=True)
class SourceLoc:
    """A position in a source file; line and column count from 1."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    id: str
    severity: Severity
    title: str


# The catalogue of every diagnostic; docs/diagnostics.md lists the same codes.
_CODES: dict[str, Code] = {}


def _code(id: str, severity: Severity, title: str) -> Code:
    code = Code(id, severity, title)
    _CODES[id] = code
    return code


E, W = Severity.ERROR, Severity.WARNING
IO_UNREADABLE = _code("IO001", E, "file cannot be read")
IO_ENCODING = _code("IO002", E, "file is not UTF-8")
IO_BINARY = _code("IO003", E, "file is binary, not text")
IO_TOO_LARGE = _code("IO004", E, "file is too large")
IO_LINK = _code("IO005", E, "symbolic link loops or leaves the course")
IO_EMPTY = _code("IO006", E, "file is empty")
IO_MISSING = _code("IO007", E, "required file is missing")
YAML_SYNTAX = _code("YAML001", E, "YAML syntax error")
YAML_DUPLICATE_KEY = _code("YAML002", E, "duplicate key")
YAML_NOT_MAPPING = _code("YAML003", E, "document must be a mapping")
YAML_UNSUPPORTED = _code("YAML004", E, "unsupported YAML feature")
FRONT_MATTER = _code("FM001", E, "front matter missing or not closed")
SCHEMA_UNKNOWN_KEY = _code("SCH001", E, "unknown key")
SCHEMA_TYPE = _code("SCH002", E, "wrong type or value")
SCHEMA_MISSING = _code("SCH003", E, "required field missing")
QUIZ_SYNTAX = _code("QZ001", E, "quiz syntax error")
QUIZ_UNKNOWN_TYPE = _code("QZ002", E, "unknown question type")
QUIZ_ATTRIBUTE = _code("QZ003", E, "bad question attribute")
QUIZ_EMPTY = _code("QZ004", E, "quiz has no questions")
QUIZ_DRAW = _code("QZ005", E, "draw cannot be filled")
QUIZ_NEVER_DRAWN = _code("QZ006", W, "question is never drawn")
QUIZ_DRAW_FIXED = _code("QZ007", W, "draw leaves no choice")
Q_SINGLE_CORRECT = _code("Q001", E, "single choice needs exactly one right answer")
Q_WEIGHTS = _code("Q002", E, "answer weights are inconsistent")
Q_DECIMAL_COMMA = _code("Q003", E, "number uses a decimal comma")
Q_MATCHING_PAIRS = _code("Q004", E, "matching needs at least two pairs")
Q_NO_FEEDBACK = _code("Q005", W, "answer has no feedback")
Q_NO_ANSWERS = _code("Q006", E, "question has no answers")
Q_TRUEFALSE = _code("Q007", E, "true/false question is malformed")
Q_MOODLE_FRACTION = _code("Q008", W, "weight is not one Moodle accepts")
Q_ORDERING_ITEMS = _code("Q009", E, "ordering needs at least two items")
Q_NO_FULL_CREDIT = _code("Q010", E, "no answer gives full credit")
Q_DUPLICATE_ANSWER = _code("Q011", E, "answer given twice")
Q_BAD_NUMBER = _code("Q012", E, "not a number")
Q_ANSWERS_NOT_ALLOWED = _code("Q013", E, "question type takes no answers of this kind")
PASS_UNREACHABLE = _code("PASS001", E, "pass mark cannot be reached")
WORKSHEET_IMAGE = _code("MED005", E, "image in a worksheet")
TASK_PASS = _code("TASK001", E, "task's pass points cannot be reached or are missing")
MOD_NO_SOURCES = _code("SRC001", W, "module lists no sources")
REF_DANGLING = _code("REF001", E, "reference to something that does not exist")
REF_DUPLICATE = _code("REF002", E, "id used twice")
REF_BAD_ID = _code("REF003", E, "id has characters that are not allowed")
MEDIA_MISSING = _code("MED001", E, "file referenced but missing")
MEDIA_NO_ALT = _code("MED002", E, "image without alt text")
MEDIA_UNSAFE_SVG = _code("MED003", E, "SVG contains script or event handlers")
MEDIA_OUTSIDE = _code("MED004", E, "path leaves the course folder")
LINK_BROKEN = _code("LNK001", E, "broken internal link")
LINK_ANCHOR = _code("LNK002", E, "link names an anchor that does not exist")
HTML_UNSAFE = _code("SEC001", E, "unsafe HTML")
SCHED_OUTSIDE = _code("SCHED001", E, "date outside the course")
SCHED_NOT_WEEKLY = _code("SCHED002", W, "webinars are not weekly")
SCHED_OVERLAP = _code("SCHED003", E, "sessions overlap")
SCHED_UNPLACED = _code("SCHED004", E, "module not placed in the schedule")
SCHED_BUDGET = _code("SCHED005", W, "week exceeds the study-time budget")
SCHED_BAD_TIME = _code("SCHED006", E, "bad time range")
SCHED_WEEK = _code("SCHED007", E, "week outside the course")
SCHED_NO_DUE = _code("SCHED008", W, "graded task without a due date")
SCHED_DUE_EARLY = _code("SCHED009", W, "task due before its module is studied")
OBJ_UNTESTED = _code("OBJ001", W, "learning objective not tested by any question")
MOD_NO_LESSONS = _code("MOD001", E, "module has no lessons")
MOD_NO_QUIZ = _code("MOD002", W, "module has no quiz")
TERM_AVOID = _code("TERM001", W, "term to avoid (glossary)")
CONTENT_PLACEHOLDER = _code("TXT001", W, "placeholder text")
CONTENT_QUOTES = _code("TXT002", W, "German quotation mark closed with the wrong character")
ITEM_LONGEST = _code("ITEM001", W, "right answer is often the longest option")
ITEM_RIGHT_COUNT = _code("ITEM002", W, "multiple-response items share one count of right answers")
ITEM_TRUEFALSE = _code("ITEM003", W, "true/false keys are unbalanced")
ITEM_ABSOLUTE = _code("ITEM004", W, "absolute word in a distractor")
ITEM_WILDCARD = _code("ITEM005", W, "short answer starts with a wildcard")
ITEM_STEM_ANSWER = _code("ITEM006", W, "stem contains an answer")
ITEM_SAME_ANSWER = _code("ITEM007", W, "same answer asked twice in one quiz")
ITEM_ESSAY_REFLECTION = _code("ITEM008", W, "essay repeats a reflection task")
CHECKS_CONFIG = _code("CHK001", W, "check cannot be switched off")
CONTENT_SCAFFOLD = _code("TXT003", W, "text of the module template still in place")
IMPORT_UNREADABLE = _code("IMP001", E, "import file cannot be read")
IMPORT_UNSUPPORTED = _code("IMP002", W, "question type cannot be imported")
IMPORT_HTML_KEPT = _code("IMP003", W, "HTML kept because it has no clean Markdown form")
IMPORT_IMAGE = _code("IMP004", W, "imported image lacks alt text or its file")
IMPORT_EXISTS = _code("IMP005", E, "import would overwrite an existing file")
IMPORT_UNSAFE_PATH = _code("IMP006", E, "archive member path leaves the archive")
IMPORT_NOT_CARRIED = _code("IMP007", W, "something of the source is not carried over")
RESULTS_EASY = _code("RES001", W, "question too easy (results)")
RESULTS_HARD = _code("RES002", W, "question too hard (results)")
RESULTS_DISCRIMINATION = _code("RES003", W, "question does not separate strong from weak learners (results)")
RESULTS_DISTRACTOR = _code("RES004", W, "distractor hardly chosen (results)")


def code(id: str) -> Code:
    return _CODES[id]


def all_codes() -> list[Code]:
    return sorted(_CODES.values(), key=lambda c: c.id)


@dataclass(frozen=True)
class Diagnostic:
    code: Code
    loc: SourceLoc
    message: str
    hint: str = ""
    severity: Severity = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.severity is None:
            object.__setattr__(self, "severity", self.code.severity)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self):
        return (self.loc.file, self.loc.line, self.loc.col, self.code.id, self.message)

    def as_dict(self) -> dict:
        return {
            "file": self.loc.file,
            "line": self.loc.line,
            "column": self.loc.col,
            "severity": self.severity.value,
            "code": self.code.id,
            "message": self.message,
            "hint": self.hint,
        }


def diag(code: Code, loc: SourceLoc, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(code, loc, message, hint)


def sort_unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple] = set()
    out = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        key = (d.sort_key(), d.severity)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


# --- output formats ---------------------------------------------------------


# Warnings of one code beyond this many are counted, not listed, in the text report (--verbose lists all).
TEXT_WARNINGS_PER_CODE = 10


def format_text(diagnostics: list[Diagnostic], color: bool = False, group_beyond: int | None = None) -> str:
    """The report for people. With group_beyond, warnings of one code after that many become one line each."""
    lines = []
    shown: dict[str, int] = {}
    for d in diagnostics:
        if group_beyond is not None and not d.is_error:
            shown[d.code.id] = shown.get(d.code.id, 0) + 1
            if shown[d.code.id] > group_beyond:
                continue
        sev = d.severity.value
        if color:
            sev = ("\x1b[1;31m" if d.is_error else "\x1b[1;33m") + sev + "\x1b[0m"
        lines.append(f"{d.loc}: {sev}[{d.code.id}]: {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    for code_id, count in shown.items():
        if count > group_beyond:
            lines.append(f"… and {count - group_beyond} more warning(s) [{code_id}] {code(code_id).title}; "
                         "--verbose lists them")
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    lines.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(lines) + "\n"


def format_json(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diagnostics)
    doc = {
        "diagnostics": [d.as_dict() for d in diagnostics],
        "summary": {"errors": errors, "warnings": len(diagnostics) - errors},
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _github_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: annotations on the changed files."""
    lines = []
    for d in diagnostics:
        kind = "error" if d.is_error else "warning"
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        lines.append(
            f"::{kind} file={_github_escape(d.loc.file, True)},line={d.loc.line},"
            f"col={d.loc.col},title={_github_escape(d.code.id, True)}::{_github_escape(message)}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def format_sarif(diagnostics: list[Diagnostic], tool_version: str) -> str:
    used = sorted({d.code.id for d in diagnostics})
    rules = [
        {
            "id": cid,
            "shortDescription": {"text": code(cid).title},
            "defaultConfiguration": {"level": code(cid).severity.value},
        }
        for cid in used
    ]
    results = [
        {
            "ruleId": d.code.id,
            "ruleIndex": used.index(d.code.id),
            "level": d.severity.value,
            "message": {"text": d.message + (f" Hint: {d.hint}" if d.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": Path(d.loc.file).as_posix()},
                        "region": {"startLine": d.loc.line, "startColumn": d.loc.col},
                    }
                }
            ],
        }
        for d in diagnostics
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "course-builder",
                        "version": tool_version,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
