"""The LTI tool's own database (lti/db.py QuizAttempt): SQLite file or any SQLAlchemy URL
(postgresql+psycopg://…). Answers are stored in the runtime's shapes and graded again here with
course_builder.scoring, so each question's fraction is the one the tool gave."""

from __future__ import annotations

from pathlib import Path

from .. import player, scoring
from ..model import Course
from .attempt import Attempt, QuestionResponse, ResultsError


def read(course: Course, url: str, pseudonym, quiz_id: str | None = None) -> list[Attempt]:
    from sqlalchemy import create_engine, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from lti.db import QuizAttempt, make_engine

    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not Path(path).is_file():  # connecting would create an empty database
            raise ResultsError(f"{url}: no such database file")
    try:
        engine = create_engine(url) if url.startswith("sqlite") else make_engine(url)
        with engine.connect() as conn:
            if not inspect(conn).has_table(QuizAttempt.__tablename__):
                raise ResultsError(f"{_safe(url)}: no table '{QuizAttempt.__tablename__}': not the LTI tool's database")
            stmt = select(QuizAttempt.user_id, QuizAttempt.platform_id, QuizAttempt.quiz_id, QuizAttempt.number,
                          QuizAttempt.answers, QuizAttempt.created_at).order_by(QuizAttempt.id)
            rows = conn.execute(stmt).all()
    except SQLAlchemyError as exc:
        raise ResultsError(f"{_safe(url)}: cannot read the database ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    finally:
        try:
            engine.dispose()
        except UnboundLocalError:
            pass
    if not rows:
        raise ResultsError(f"{_safe(url)}: the database holds no quiz attempt")
    quizzes = {q.id: q for q in course.quizzes}
    unknown = sorted({r.quiz_id for r in rows} - quizzes.keys())
    if len(unknown) == len({r.quiz_id for r in rows}):
        raise ResultsError(f"{_safe(url)}: its attempts are of quizzes {', '.join(unknown[:5])}, none of course '{course.id}'")
    ctx = player.PlayerContext(static_prefix="", asset_href=lambda a: "", module_href=lambda m: None, scoring="server")
    keys = {qid: player.quiz_keys(course, quiz, ctx) for qid, quiz in quizzes.items()}
    attempts = []
    graded: dict[tuple, QuestionResponse] = {}  # a cohort gives few distinct answers: each is graded once
    for r in rows:
        if r.quiz_id not in quizzes or (quiz_id and r.quiz_id != quiz_id):
            continue
        attempt = Attempt(learner=pseudonym(str(r.platform_id), r.user_id), quiz_id=r.quiz_id, number=r.number,
                          started=r.created_at)
        for qid, answer in (r.answers or {}).items():
            memo = (r.quiz_id, qid, repr(answer))
            if memo not in graded:
                q = keys[r.quiz_id].get(qid)
                result = scoring.grade(q, answer) if q else None
                graded[memo] = None if result is None else QuestionResponse(qid, result["fraction"], _chosen(q, answer))
            if graded[memo] is not None:
                attempt.responses[qid] = graded[memo]
        attempts.append(attempt)
    return attempts


def _chosen(q: dict, answer) -> tuple[str, ...]:
    if answer is None:
        return ()
    if q["type"] in ("single", "truefalse"):
        return (q["answers"][answer]["key"],) if isinstance(answer, int) and 0 <= answer < len(q["answers"]) else ()
    if q["type"] == "multiple":
        return tuple(a["key"] for a, on in zip(q["answers"], answer) if on is True)
    if isinstance(answer, str):
        return (answer.strip(),) if answer.strip() else ()
    return ()


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the database"
