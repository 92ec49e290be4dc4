"""Moodle's quiz Responses report (mod/quiz/report/responses), downloaded as CSV, XLSX or ODS.

Columns (lang strings quiz_responses responsex/rightanswerx, question questionx): per slot N
"Response N", optionally "Question N" and "Right answer N"; German "Antwort N", "Frage N",
"Richtige Antwort N". The learner's identity columns are pseudonymised and dropped. Each response
summary is matched to the question's options and graded by the course's own key.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..model import Course, Quiz
from .attempt import Attempt, QuestionResponse, ResultsError
from .options import grade_keys, grade_text, option_index, plain
from .tables import read_table

LANGUAGES = {
    "en": {"response": r"Response (\d+)", "question": r"Question (\d+)", "right": r"Right answer (\d+)",
           "identity": ("Username", "Email address", "First name", "Last name", "Surname", "ID number"),
           "started": "Started on", "taken": "Time taken", "state": "State"},
    "de": {"response": r"Antwort (\d+)", "question": r"Frage (\d+)", "right": r"Richtige Antwort (\d+)",
           "identity": ("Anmeldename", "E-Mail-Adresse", "Vorname", "Nachname", "ID-Nummer"),
           "started": "Begonnen am", "taken": "Verbrauchte Zeit", "state": "Status"},
}
_DURATION = re.compile(r"(\d+)\s*(\w+)")
TEXT_PREFIX = 50  # characters of a question's text that tell it from the others in "Question N"


def question_text(q) -> str:
    """The start of a question's text as Moodle's question summary prints it (html_to_text)."""
    return plain(html.unescape(_TAG.sub(" ", q.text.html)))[:TEXT_PREFIX]


_TAG = re.compile(r"<[^>]+>")


def _columns(header: list[str], pattern: str) -> dict[int, int]:
    regex = re.compile(pattern, re.IGNORECASE)
    return {int(m.group(1)): i for i, h in enumerate(header) if (m := regex.fullmatch(h.strip()))}


def _language(header: list[str], path: Path) -> tuple[str, dict]:
    for lang, names in LANGUAGES.items():
        if _columns(header, names["response"]):
            return lang, names
    shown = ", ".join(f"'{h}'" for h in header[:12])
    raise ResultsError(f"{path}: no 'Response 1' (English) or 'Antwort 1' (German) column; the headers are {shown}. "
                       "Download the quiz's Responses report with the student responses shown, in English or German.")


def _seconds(text: str) -> float | None:
    """Moodle's format_time ("5 mins 3 secs", "1 Stunde 2 Minuten")."""
    unit_seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "st": 3600, "t": 86400}
    total, found = 0.0, False
    for number, unit in _DURATION.findall(text):
        u = unit.lower()
        factor = unit_seconds.get(u[:2]) or unit_seconds.get(u[:1])
        if factor:
            total += int(number) * factor
            found = True
    return total if found else None


def _slot_questions(quiz: Quiz, header: list[str], rows: list[list[str]], question_cols: dict[int, int]):
    """slot → question id per row: by the question text column if there is one, else by position."""
    by_text = {question_text(q): q.id for q in quiz.questions}

    def for_row(row):
        if question_cols:
            found = {}
            for slot, col in question_cols.items():
                qid = by_text.get(plain(row[col])[:TEXT_PREFIX])
                if qid is None and row[col]:
                    raise ResultsError(f"question text of slot {slot} ('{row[col][:60]}') is no question of quiz "
                                       f"'{quiz.id}' ({quiz.path})")
                if qid:
                    found[slot] = qid
            return found
        return {n: q.id for n, q in enumerate(quiz.questions, 1)}
    return for_row


def _match(quiz: Quiz, slots: dict[int, int], rows: list[list[str]]) -> tuple[int, int]:
    """(responses explained by the quiz's options or answers, responses) for slots in question order."""
    explained = total = 0
    seen: dict[tuple[int, str], bool] = {}
    for row in rows:
        for slot, col in slots.items():
            if slot > len(quiz.questions) or not row[col] or row[col] == "-":
                continue
            total += 1
            if (slot, row[col]) not in seen:
                seen[slot, row[col]] = _explains(quiz.questions[slot - 1], row[col])
            explained += seen[slot, row[col]]
    return explained, total


def _explains(q, text: str) -> bool:
    if q.type in ("single", "truefalse"):
        return plain(text) in option_index(q)
    if q.type == "multiple":
        keys = set(option_index(q).values())
        return all(k in keys for k in multi_keys(q, text))
    return True


def find_quiz(course: Course, header: list[str], rows: list[list[str]], path: Path, quiz_id: str | None) -> Quiz:
    """The quiz of the export: named, or told by the question texts, or by how well its options explain the
    responses slot by slot (a quiz without item pools lists its questions in slot order)."""
    _, names = _language(header, path)
    slots = _columns(header, names["response"])
    if quiz_id:
        quiz = next((q for q in course.quizzes if q.id == quiz_id), None)
        if quiz is None:
            raise ResultsError(f"no quiz '{quiz_id}' in the course; its quizzes: {', '.join(q.id for q in course.quizzes)}")
        return quiz
    question_cols = _columns(header, names["question"])
    candidates = []
    for quiz in course.quizzes:
        if question_cols:
            texts = {question_text(q) for q in quiz.questions}
            cells = [plain(row[c])[:TEXT_PREFIX] for row in rows[:50] for c in question_cols.values() if row[c]]
            explained, total = sum(c in texts for c in cells), len(cells)
        elif quiz.meta.draw or len(quiz.questions) < max(slots):
            continue
        else:
            explained, total = _match(quiz, slots, rows)
        candidates.append((explained / total if total else 0.0, quiz.id, quiz))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    if not candidates or candidates[0][0] < (1.0 if question_cols else 0.9):
        best = f"; closest: '{candidates[0][1]}' explains {candidates[0][0]:.0%} of the responses" if candidates else ""
        raise ResultsError(f"{path}: the responses ({len(slots)} slots) match no quiz of course '{course.id}'{best}. "
                           "Is it an export of another quiz or course? Name the quiz with --quiz ID.")
    return candidates[0][2]


def multi_keys(q, text: str) -> tuple[str, ...]:
    """The options named in a multiple-response summary ("a; b"): option texts may hold "; " themselves,
    so the longest options are taken out first, each only where it stands between separators."""
    rest = "; " + plain(text) + "; "
    found = []
    for option, key in sorted(option_index(q).items(), key=lambda kv: -len(kv[0])):
        mark = "; " + option + "; "
        if option and mark in rest:
            rest = rest.replace(mark, "; ", 1)
            found.append(key)
    leftover = [p for p in (x.strip() for x in rest.split(";")) if p]
    return tuple(sorted(found)) + tuple(leftover)


def read(course: Course, path: Path, pseudonym, quiz_id: str | None = None, table=None) -> list[Attempt]:
    header, rows = table or read_table(path)
    lang, names = _language(header, path)
    quiz = find_quiz(course, header, rows, path, quiz_id)
    slots = _columns(header, names["response"])
    question_cols = _columns(header, names["question"])
    rights = _columns(header, names["right"])
    identity = [i for i, h in enumerate(header) if h.strip() in names["identity"]]
    if not identity:
        raise ResultsError(f"{path}: no learner column ({', '.join(names['identity'])}); the headers are "
                           + ", ".join(f"'{h}'" for h in header[:12]))
    col = {h.strip(): i for i, h in enumerate(header)}
    slot_questions = _slot_questions(quiz, header, rows, question_cols)
    questions = {q.id: q for q in quiz.questions}
    attempts: list[Attempt] = []
    numbers: dict[str, int] = {}
    graded: dict[tuple, QuestionResponse] = {}
    for row in rows:
        who = [row[i] for i in identity]
        if not any(who):
            continue  # Moodle's footer rows (averages) name nobody
        learner = pseudonym(*who)
        numbers[learner] = numbers.get(learner, 0) + 1
        attempt = Attempt(learner=learner, quiz_id=quiz.id, number=numbers[learner])
        if names["taken"] in col:
            attempt.seconds = _seconds(row[col[names["taken"]]])
        for slot, qid in slot_questions(row).items():
            if slot not in slots:
                continue
            q = questions[qid]
            if q.type == "essay":
                continue  # graded by hand in Moodle; the export has no mark
            text = row[slots[slot]]
            text = "" if text == "-" else text
            right = row[rights[slot]] if slot in rights else None
            memo = (qid, text, right)  # a cohort gives few distinct responses: each is graded once
            if memo not in graded:
                graded[memo] = _response(q, text, right)
            attempt.responses[qid] = graded[memo]
        attempts.append(attempt)
    return attempts


def _response(q, text: str, right: str | None) -> QuestionResponse:
    if q.type in ("single", "truefalse", "multiple"):
        if q.type == "multiple":
            keys = multi_keys(q, text)
        else:
            keys = (option_index(q).get(plain(text), plain(text)),) if plain(text) else ()
        return QuestionResponse(q.id, grade_keys(q, keys), keys)
    if q.type in ("short", "numerical"):
        return QuestionResponse(q.id, grade_text(q, text), (text.strip(),) if text.strip() else ())
    return QuestionResponse(q.id, _graded_by_right_answer(q.type, text, right or ""), (text,) if text else ())


_PAIR_START = re.compile(r"; (?=[^;]*? -> )")


def _graded_by_right_answer(qtype: str, text: str, right: str) -> float:
    """Matching and ordering, graded from the summaries as qtype_match and qtype_ordering (absolute
    position, the grading our .mbz sets) do: the share of stems matched, or of items in their place.
    The summaries cut ordering items to 10 characters; the comparison is position by position."""
    if not text or not right:
        return 0.0
    if qtype == "matching":
        given = {plain(p) for p in _PAIR_START.split(text)}
        pairs = [plain(p) for p in _PAIR_START.split(right)]
        return sum(p in given for p in pairs) / len(pairs)
    given, key = [plain(p) for p in text.split("; ")], [plain(p) for p in right.split("; ")]
    return sum(g == k for g, k in zip(given, key)) / len(key)
