"""Quiz attempts graded by the tool: the page sends answers, never a score.

POST /lti/attempt/{launch_id} takes {"answers": {question id: answer}} (the runtime's shapes, see
course_builder/scoring.py), grades them with course_builder.scoring, stores the attempt, sets the
learner's best score and queues it for the gradebook. The answer is the attempt's score, the attempt
count, the best score and, as far as the quiz's `feedback:` policy allows, the review per question.
The module page itself carries no key and no feedback (player.PlayerContext(scoring="server")).

With `feedback: immediate` the same URL takes {"check": question id, "answer": …}: the tool grades that
one question and answers {"review": {question id: …}}; the checked answer stands for the attempt (a
second check of the question returns the first review), so checking is no way to try options out.
"""

from __future__ import annotations

import json
import math
import random

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from course_builder import player, scoring
from course_builder.model import Quiz

from .db import Launch, Progress, QuizAttempt, now
from .progress import progress_for, record as record_progress
from .security import Rejected, csrf_ok

MAX_BODY_BYTES = 256 * 1024
MAX_TEXT = 20000  # characters of one typed answer


def _answer_ok(q: dict, v) -> bool:
    """The runtime's shape for the question's type (the grader takes anything; this names mistakes)."""
    if v is None:
        return True
    if q["type"] in ("single", "truefalse"):
        return isinstance(v, int) and not isinstance(v, bool)
    if q["type"] == "multiple":
        return isinstance(v, list) and len(v) == len(q["answers"]) and all(isinstance(x, bool) for x in v)
    if q["type"] in ("matching", "ordering"):
        size = len(q["pairs"] if q["type"] == "matching" else q["items"])
        return (isinstance(v, list) and len(v) == size
                and all(isinstance(x, int) and not isinstance(x, bool) for x in v))
    return isinstance(v, str) and len(v) <= MAX_TEXT


def parse_answers(data, questions: dict[str, dict]) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise ValueError('the body must be {"answers": {question id: answer}}')
    answers = {}
    for qid, value in data["answers"].items():
        q = questions.get(qid)
        if q is None:
            continue  # a question the quiz no longer has
        if not _answer_ok(q, value):
            raise ValueError(f"the answer to {qid} does not fit a {q['type']} question")
        answers[qid] = value
    return answers


def attempt_rows(session: Session, record) -> list[QuizAttempt]:
    return session.scalars(select(QuizAttempt).where(
        QuizAttempt.platform_id == record.platform_id, QuizAttempt.resource_link_id == record.resource_link_id,
        QuizAttempt.user_id == record.user_id).order_by(QuizAttempt.number)).all()


def _left(quiz: Quiz, used: int) -> float:
    return max(0, quiz.meta.attempts - used) if quiz.meta.attempts else math.inf


_rng = random.SystemRandom()


def _draw(quiz: Quiz) -> list[str]:
    return scoring.draw([(count, [q.id for q in members]) for count, members in quiz.pools()], _rng)


def _asked(quiz: Quiz, row: Progress) -> list[str]:
    """The question ids the open attempt asks: all, or the tool's draw from the item pools."""
    if not quiz.meta.draw:
        return [q.id for q in quiz.questions]
    if not row.drawn:
        row.drawn = _draw(quiz)
    return list(row.drawn)


def drawn_for(tool, launch_id: str) -> list[str]:
    """The open attempt's questions, drawn now if the learner has none yet (stored: a reload keeps them)."""
    with tool.Session() as session:
        record = tool.launch_for(session, launch_id)
        asked = _asked(tool.course.quiz_for(record.module_id), progress_for(session, record))
        session.commit()
        return asked


def _interactions(quiz: Quiz, answers: dict, reviews: dict) -> list[dict]:
    """The teacher page's per-question results, as SCORM would report them (partly right counts as not)."""
    out = []
    for q in quiz.questions:
        if q.id not in reviews:
            continue  # not asked in this attempt (item pools)
        result = reviews[q.id]["result"]
        out.append({"id": q.id, "result": "neutral" if result is None else
                    "correct" if result == "correct" else "incorrect", "response": answers.get(q.id)})
    return out


def quiz_summary(tool, record, rows: list[tuple[int, float | None, dict | None]], checked: dict) -> dict:
    """The tool's record of the learner's quiz for the page on (re)load: counts, the last attempt's
    review as the policy allows, the reviews of questions checked in the open attempt. rows: (number,
    score, review) per attempt (read as plain SQL: every page load asks)."""
    quiz = tool.course.quiz_for(record.module_id)
    used = rows[-1][0] if rows else 0
    best = _best([score for _, score, _ in rows])
    pass_mark = player.pass_mark(tool.course, tool.course.module(record.module_id))
    reveal = bool(rows) and scoring.reveals(quiz.meta.feedback, _left(quiz, used), best, pass_mark)
    keys = tool.quiz_keys(record.module_id)
    return {"attempts": used, "best": best, "last": rows[-1][1] if rows else None,
            "review": rows[-1][2] if reveal else None,
            "checked": {qid: _review(keys[qid], v) for qid, v in checked.items() if qid in keys}}


def _review(q: dict, v) -> dict:
    return scoring.review(q, v, scoring.grade(q, v))


def _best(scores: list[float | None]) -> float | None:
    scores = [score for score in scores if score is not None]
    return max(scores) if scores else None


def _quiz_launch(tool, session: Session, launch_id: str) -> tuple[Launch, Quiz, list[QuizAttempt]]:
    """(launch, quiz, attempts so far) of a launch that may still submit."""
    record: Launch = tool.launch_for(session, launch_id)
    if record.message_type != "LtiResourceLinkRequest" or record.task_id:
        raise Rejected("Only a module launch has a quiz.", 400, "no_state")
    quiz = tool.course.quiz_for(record.module_id)
    if quiz is None:
        raise Rejected("This module has no quiz.", 404, "no_quiz")
    rows = attempt_rows(session, record)
    used = rows[-1].number if rows else 0
    if _left(quiz, used) == 0:
        raise Rejected("No attempt is left for this quiz.", 409, "no_attempts_left")
    return record, quiz, rows


def check(tool, launch_id: str, data: dict) -> dict:
    """feedback: immediate — grade one question of the open attempt; its first checked answer stands."""
    with tool.Session() as session:
        record, quiz, _ = _quiz_launch(tool, session, launch_id)
        if quiz.meta.feedback != "immediate":
            raise Rejected("This quiz gives feedback only for a submitted attempt.", 409, "no_immediate_feedback")
        questions = tool.quiz_keys(record.module_id)
        qid = data.get("check")
        if qid not in questions or questions[qid]["type"] == "essay":
            raise ValueError("check names no auto-graded question of this quiz")
        answer = parse_answers({"answers": {qid: data.get("answer")}}, questions)[qid]
        row = progress_for(session, record)
        if qid not in _asked(quiz, row):
            raise ValueError("check names a question this attempt does not ask")
        checked = dict(row.checked or {})
        answer = checked.setdefault(qid, answer)
        row.checked = checked
        session.commit()
        return {"review": {qid: _review(questions[qid], answer)}}


def submit(tool, launch_id: str, data, column_for) -> tuple[dict, bool]:
    """Grade and store one attempt; (the page's answer, whether a score was queued)."""
    with tool.Session() as session:
        record, quiz, rows = _quiz_launch(tool, session, launch_id)
        used = rows[-1].number if rows else 0
        questions = tool.quiz_keys(record.module_id)
        answers = parse_answers(data, questions)
        row = progress_for(session, record)
        asked = _asked(quiz, row)
        answers = {qid: v for qid, v in {**answers, **(row.checked or {})}.items() if qid in asked}  # checked stand
        row.checked = None
        score, reviews = scoring.attempt([questions[q.id] for q in quiz.questions if q.id in asked], answers)
        graded = any(questions[qid]["type"] != "essay" for qid in asked)
        best = _best([row.score for row in rows])
        if graded:
            best = score if best is None else max(best, score)
        session.add(QuizAttempt(platform_id=record.platform_id, resource_link_id=record.resource_link_id,
                                user_id=record.user_id, module_id=record.module_id, quiz_id=quiz.id,
                                number=used + 1, answers=answers, score=score if graded else None,
                                review=reviews, scored_by="tool", created_at=now()))
        pass_mark = player.pass_mark(tool.course, tool.course.module(record.module_id))
        offered = {"interactions": _interactions(quiz, answers, reviews)}
        if best is not None:
            offered.update(score=best, success="passed" if best >= pass_mark else "failed")
        row.drawn = _draw(quiz) if quiz.meta.draw else None  # the next attempt's questions
        # An attempt below the best changes nothing the gradebook shows (Moodle's "highest grade").
        queued = record_progress(session, record, row, offered, "attempt", column_for(record),
                                 added={"attempts": [used, used + 1]})
        best = row.score
        try:
            session.commit()
        except IntegrityError:  # the same attempt number sent twice at once: the first one counts
            session.rollback()
            raise Rejected("This attempt was already submitted.", 409, "attempt_submitted")
        reveal = scoring.reveals(quiz.meta.feedback, _left(quiz, used + 1), best, pass_mark)
        answer = {"score": score if graded else 0, "attempts": used + 1, "best": best,
                  "review": reviews if reveal else None}
        if quiz.meta.draw:
            answer["drawn"] = row.drawn
        return answer, queued


def routes(tool, rejected_page, column_for) -> list[Route]:
    @rejected_page
    async def attempt(request: Request) -> Response:
        launch_id = request.path_params["launch_id"]
        if not csrf_ok(tool.settings, launch_id, request.headers.get("x-csrf-token")):
            return JSONResponse({"error": "bad or missing X-CSRF-Token"}, status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "attempt too large"}, status_code=413)
        try:
            data = json.loads(body)
            if isinstance(data, dict) and "check" in data:
                answer, queued = check(tool, launch_id, data), False
            else:
                answer, queued = submit(tool, launch_id, data, column_for)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": f"invalid attempt: {exc}"}, status_code=422)
        except Rejected as exc:
            if exc.status in (400, 404, 409):
                return JSONResponse({"error": exc.message, "code": exc.code}, status_code=exc.status)
            raise
        if queued and tool.worker:
            tool.worker.wake()
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    return [Route("/lti/attempt/{launch_id}", attempt, methods=["POST"])]
