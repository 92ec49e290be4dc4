"""A simulated cohort for the results tests and bench: learners of varying ability answer a quiz of the
course; the same answers are written as the LTI tool's database, Moodle's quiz Responses export and
Moodle's SCORM Interactions export, so every adapter must read them back to the same statistics."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

from course_builder.model import Quiz
from course_builder.player import choices

EN = {"first": "First name", "last": "Last name", "email": "Email address", "state": "State",
      "started": "Started on", "taken": "Time taken", "response": "Response {n}", "right": "Right answer {n}",
      "question": "Question {n}"}
DE = {"first": "Vorname", "last": "Nachname", "email": "E-Mail-Adresse", "state": "Status",
      "started": "Begonnen am", "taken": "Verbrauchte Zeit", "response": "Antwort {n}", "right": "Richtige Antwort {n}",
      "question": "Frage {n}"}


def cohort(course, quiz: Quiz, learners: int, seed: int = 7, flip: str | None = None) -> list[dict]:
    """One attempt per learner: {"user", "answers" (runtime shapes by question id)}. A learner's ability and
    each question's difficulty decide (Rasch) whether the right option is chosen, else a wrong one at
    random; `flip` names a question that strong learners get wrong (a miskeyed item)."""
    from course_builder import player

    keys = player.quiz_keys(course, quiz, player.PlayerContext(static_prefix="", asset_href=lambda a: "",
                                                                module_href=lambda m: None, scoring="server"))
    rng = random.Random(seed)
    difficulty = {q.id: rng.uniform(-1.5, 1.5) for q in quiz.questions}
    out = []
    for n in range(learners):
        ability = rng.gauss(0.5, 1.2)
        answers, rights = {}, {}
        for q in quiz.questions:
            if q.type == "essay":
                continue
            p = 1 / (1 + math.exp(difficulty[q.id] - ability))
            right = rights[q.id] = rng.random() < p
            if q.id == flip:
                right = rights[q.id] = rng.random() < 1 - p
            listed = choices(q)
            key = keys[q.id]
            if q.type == "matching":
                answers[q.id] = [pair["right"] if right else -1 for pair in key["pairs"]]
            elif q.type == "ordering":
                answers[q.id] = list(key["order"]) if right else [0] * len(key["order"])
            elif q.type == "short":
                answers[q.id] = q.answers[0].text.markdown.strip().replace("*", "") if right else "keine Ahnung"
            elif q.type == "numerical":
                answers[q.id] = str(q.answers[0].value) if right else "-123456"
            elif q.type == "multiple":
                answers[q.id] = [a.correct if right else (rng.random() < 0.5) for _, a in listed]
            else:
                good = [i for i, (_, a) in enumerate(listed) if a.correct]
                bad = [i for i, (_, a) in enumerate(listed) if not a.correct] or good
                answers[q.id] = good[0] if right else rng.choice(bad)
        out.append({"user": f"user{n:05d}", "first": f"Vorname{n}", "last": f"Nachname{n}",
                    "email": f"user{n}@example.org", "answers": answers, "right": rights})
    return out


def _text(q, answer, right: bool = True) -> str:
    """The response summary Moodle prints (choices by their text; other types: the key's text or nothing)."""
    if q.type in ("matching", "ordering"):
        return "KEY" if right else "-"
    if q.type in ("short", "numerical"):
        return str(answer)
    listed = choices(q)
    if q.type == "multiple":
        return "; ".join(a.text.markdown.strip() for (_, a), on in zip(listed, answer) if on)
    return listed[answer][1].text.markdown.strip()


def responses_csv(quiz: Quiz, people: list[dict], path: Path, names: dict = EN, question_text: bool = False) -> Path:
    """Moodle's Responses report as its CSV download writes it (UTF-8 with BOM)."""
    asked = [q for q in quiz.questions if q.type != "essay"]
    header = [names["first"], names["last"], names["email"], names["state"], names["started"], names["taken"], "Grade/10.00"]
    for n, q in enumerate(asked, 1):
        if question_text:
            header.append(names["question"].format(n=n))
        header += [names["response"].format(n=n), names["right"].format(n=n)]
    return _write(path, header, people, ["Finished", "5 December 2026  10:00 AM", "4 mins 10 secs", "-"],
                  lambda p: _response_cells(asked, p, question_text))


def _write(path: Path, header: list[str], people: list[dict], fixed: list[str], cells) -> Path:
    """A report CSV as Moodle's dataformat_csv writes it: UTF-8 with BOM, identity columns first."""
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for p in people:
            w.writerow([p["first"], p["last"], p["email"], *fixed, *cells(p)])
    return path


def _response_cells(asked, p, question_text: bool) -> list[str]:
    row = []
    for q in asked:
        if question_text:
            row.append(q.text.markdown.strip())
        right = [i for i, (_, a) in enumerate(choices(q)) if a.correct]
        key = ([i in right for i in range(len(choices(q)))] if q.type == "multiple" else right[0] if right
               else q.answers[0].text.markdown.strip().replace("*", "") if q.type == "short"
               else str(q.answers[0].value))
        row += [_text(q, p["answers"][q.id], p["right"][q.id]), _text(q, key)]
    return row


def interactions_csv(quiz: Quiz, people: list[dict], path: Path, v2004: bool = False) -> Path:
    """Moodle's SCORM Interactions report CSV: ids, responses (learner.js patterns) and results."""
    asked = [q for q in quiz.questions if q.type != "essay"]
    header = ["First name", "Last name", "Email address", "Attempt", "Started on", "Last access on", "Score"]
    for i in range(len(asked)):
        header += [f"Question {i}", f"Response {i}", f"Result {i}"]
    return _write(path, header, people, ["1", "", "", ""], lambda p: _interaction_cells(asked, p, v2004))


def _interaction_cells(asked, p, v2004: bool) -> list[str]:
    row = []
    for q in asked:
        listed = choices(q)
        v = p["answers"][q.id]
        if q.type not in ("single", "truefalse", "multiple"):
            row += [q.id, str(v), "correct" if p["right"][q.id] else ("incorrect" if v2004 else "wrong")]
            continue
        picked = [i for i, on in enumerate(v) if on] if q.type == "multiple" else [v]
        if q.type == "truefalse":
            truth = listed[v][1].text.markdown.strip().lower() in ("wahr", "richtig", "true", "stimmt")
            pattern = ("true" if truth else "false") if v2004 else ("t" if truth else "f")
        else:
            pattern = ("[,]" if v2004 else ",").join(listed[i][0] if v2004 else "abcdefghij"[i] for i in picked)
        fraction = max(0.0, min(1.0, sum(listed[i][1].weight for i in picked) / 100))
        row += [q.id, pattern, "correct" if fraction > 0.9999 else ("incorrect" if v2004 else "wrong")]
    return row


def lti_database(course, quiz: Quiz, people: list[dict], path_or_url) -> str:
    """The LTI tool's database (an SQLite file, or a URL) with one QuizAttempt per person, as
    lti/attempts.submit stores them."""
    from lti import db

    url = path_or_url if "://" in str(path_or_url) else f"sqlite:///{path_or_url}"
    engine = db.make_engine(url)
    db.migrate(engine)
    with db.sessions(engine)() as session:
        platform = db.Platform(issuer="https://moodle.example", client_id="c", auth_login_url="x", auth_token_url="x",
                               jwks_url="x")
        session.add(platform)
        session.flush()
        for p in people:
            session.add(db.QuizAttempt(platform_id=platform.id, resource_link_id="r1", user_id=p["user"],
                                       module_id=quiz.module or "", quiz_id=quiz.id, number=1,
                                       answers=p["answers"], score=None, review=None))
        session.commit()
    engine.dispose()
    return url


def moodle_answers(quiz: Quiz, people: list[dict], prefix: str) -> dict:
    """The cohort's answers for scripts/moodle-check/php/quiz_statistics.php: options by their index in the
    source (the order the .mbz restores them in), true/false by truth, typed text, or the correct response."""
    learners = []
    for p in people:
        answers = {}
        for q in quiz.questions:
            v = p["answers"].get(q.id)
            if q.type in ("single", "multiple"):
                listed = choices(q)
                picked = [i for i, on in enumerate(v) if on] if q.type == "multiple" else [v]
                answers[q.id] = {"choice": sorted(q.answers.index(listed[i][1]) for i in picked)}
            elif q.type == "truefalse":
                answers[q.id] = {"truth": choices(q)[v][1].text.markdown.strip().lower() in ("wahr", "richtig", "true", "stimmt")}
            elif q.type in ("short", "numerical"):
                answers[q.id] = {"text": v}
            elif q.type == "matching" and p["right"].get(q.id):
                answers[q.id] = {"right": True}
            elif q.type == "ordering":  # always answered: Moodle grades an untouched ordering as shown
                answers[q.id] = {"right": True} if p["right"].get(q.id) else {"order": list(range(len(q.answers)))[::-1]}
        learners.append({"first": p["first"], "last": p["last"], "answers": answers})
    return {"prefix": prefix, "learners": learners}
