"""Moodle's SCORM Interactions report (mod/scorm/report/interactions), downloaded as CSV, XLSX or ODS.

Columns per interaction i (from 0): "Question i" holds cmi.interactions.i.id, which our runtime sets
to the question's id (learner.js writeInteractions); "Response i" the learner's response pattern
(SCORM 1.2: option letters a, b, … in the listed order, t/f; SCORM 2004: option keys a1[,]a3,
true/false); "Result i" correct, wrong/incorrect or neutral. German: "Frage i", "Antwort i", "Ergebnis i".
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Course
from ..player import choices
from .attempt import Attempt, QuestionResponse, ResultsError
from .options import grade_keys, grade_text
from .tables import read_table

LANGUAGES = {
    "en": {"question": r"Question (\d+)", "response": r"Response (\d+)", "result": r"Result (\d+)",
           "identity": ("Username", "Email address", "First name", "Last name", "Surname", "ID number"),
           "attempt": "Attempt"},
    "de": {"question": r"Frage (\d+)", "response": r"Antwort (\d+)", "result": r"Ergebnis (\d+)",
           "identity": ("Anmeldename", "E-Mail-Adresse", "Vorname", "Nachname", "ID-Nummer"),
           "attempt": "Versuch"},
}
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _columns(header: list[str], pattern: str) -> dict[int, int]:
    regex = re.compile(pattern, re.IGNORECASE)
    return {int(m.group(1)): i for i, h in enumerate(header) if (m := regex.fullmatch(h.strip()))}


def looks_like(header: list[str]) -> bool:
    return any(_columns(header, names["result"]) for names in LANGUAGES.values())


def _keys(q, pattern: str) -> tuple[str, ...]:
    listed = [key for key, _ in choices(q)]
    parts = [p for p in re.split(r"\[,\]|,", pattern) if p]
    keys = []
    for p in parts:
        if p in listed:
            keys.append(p)  # SCORM 2004 names the key
        elif q.type == "truefalse" and p.lower() in ("t", "f", "true", "false"):
            truth = p.lower() in ("t", "true")
            keys += [key for key, a in choices(q) if (a.text.markdown.strip().lower() in ("wahr", "richtig", "true", "stimmt")) == truth][:1]
        elif len(p) == 1 and p in B36 and (B36.index(p) - 10) % 36 < len(listed):
            keys.append(listed[(B36.index(p) - 10) % 36])  # SCORM 1.2: char12(index)
        else:
            keys.append(p)
    return tuple(keys)


def read(course: Course, path: Path, pseudonym, quiz_id: str | None = None, table=None) -> list[Attempt]:
    header, rows = table or read_table(path)
    names = next((n for n in LANGUAGES.values() if _columns(header, n["result"])), None)
    if names is None:
        raise ResultsError(f"{path}: no 'Result 0' (English) or 'Ergebnis 0' (German) column: not a SCORM "
                           "Interactions export with question, response and result shown")
    ids, responses, results = (_columns(header, names[k]) for k in ("question", "response", "result"))
    if not ids:
        raise ResultsError(f"{path}: no 'Question 0' / 'Frage 0' column: download the report with the question ids shown")
    questions = {q.id: (quiz, q) for quiz in course.quizzes for q in quiz.questions}
    seen = {row[ids[i]] for row in rows for i in ids if row[ids[i]] and row[ids[i]] != "-"}
    unknown = sorted(seen - questions.keys())
    if seen and unknown == sorted(seen):
        raise ResultsError(f"{path}: no interaction id is a question of course '{course.id}' "
                           f"(e.g. '{unknown[0]}'): an export of another course or package?")
    quizzes = {questions[qid][0].id for qid in seen if qid in questions}
    if quiz_id:
        quizzes &= {quiz_id}
    if len(quizzes) != 1:
        raise ResultsError(f"{path}: the interactions belong to {len(quizzes)} quizzes ({', '.join(sorted(quizzes)) or 'none'}); "
                           "export one SCORM activity, or name the quiz with --quiz ID")
    quiz_id = quizzes.pop()
    identity = [i for i, h in enumerate(header) if h.strip() in names["identity"]]
    if not identity:
        raise ResultsError(f"{path}: no learner column ({', '.join(names['identity'])})")
    col = {h.strip(): i for i, h in enumerate(header)}
    attempts = []
    for n, row in enumerate(rows):
        who = [row[i] for i in identity]
        if not any(who):
            continue
        number = int(row[col[names["attempt"]]]) if names["attempt"] in col and row[col[names["attempt"]]].isdigit() else n + 1
        attempt = Attempt(learner=pseudonym(*who), quiz_id=quiz_id, number=number)
        for i in sorted(ids):  # a later interaction of the same question replaces an earlier one
            qid = row[ids[i]]
            if qid not in questions or questions[qid][0].id != quiz_id:
                continue
            q = questions[qid][1]
            if q.type == "essay":
                continue
            pattern = row[responses[i]] if i in responses else ""
            pattern = "" if pattern == "-" else pattern
            result = (row[results[i]] if i in results else "").lower()
            if q.type in ("single", "multiple", "truefalse"):
                keys = _keys(q, pattern)
                # the pattern names every option chosen: graded by the key, partial credit included
                # (the result is only correct/incorrect)
                fraction = grade_keys(q, keys)
            elif q.type in ("short", "numerical"):
                keys = (pattern,) if pattern else ()
                fraction = float(result == "correct") if result else grade_text(q, pattern)
            else:
                keys = (pattern,) if pattern else ()
                fraction = float(result == "correct")
            attempt.responses[qid] = QuestionResponse(qid, fraction, keys)
        if attempt.responses:
            attempts.append(attempt)
    return attempts
