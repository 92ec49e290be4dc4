"""The tool grades: the page sends answers, never a score (lti/attempts.py). The launch page carries no
key; a forged score is ignored; forged answers get exactly what they earn; the attempt limit and the
feedback policy hold on the server; states stored before the tool graded migrate."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from course_builder import scoring
from lti.db import OutboxScore, Progress, QuizAttempt, make_engine, migrate
from lti_harness import answer, csrf_of, platform, tool  # noqa: F401 (fixtures)
from test_lti_launch import put_state

MODULE = "grundlagen"


def launch(tool, user: str, link: str = "rl-scoring") -> tuple[str, str]:
    tool.platform.enrol(user)
    return tool.play(tool.launch(custom={"module": MODULE}, user=user, resource_link=link,
                                 lineitem=tool.platform.lineitem(link)))


def plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_the_launch_page_carries_no_key_and_no_feedback(tool):
    _, page = launch(tool, "k1")
    data = json.loads(page.split('id="player-data">', 1)[1].split("</script>", 1)[0])
    assert data["quiz"]["scoring"] == "server" and "salt" not in data["quiz"]
    def names(value) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {n for v in value.values() for n in names(v)}
        return {n for v in value for n in names(v)} if isinstance(value, list) else set()

    assert names(data["quiz"]).isdisjoint({"correct", "weight", "truth", "right", "order", "fb", "fbq", "seal",
                                           "caseSensitive", "value", "tolerance", "text"}), names(data["quiz"])
    assert "is-correct" not in page and "is-wrong" not in page
    quiz = tool.tool.course.quiz_for(MODULE)
    for q in quiz.questions:
        feedback = [a.feedback for a in q.answers] + [q.feedback, q.correct_feedback, q.partial_feedback,
                                                      q.incorrect_feedback]
        for fb in feedback:
            if plain(fb.html):
                assert plain(fb.html)[:40] not in html.unescape(page), (q.id, plain(fb.html))
        # Accepted texts: not in the question's own field nor in the page data (the same word may be an
        # item of another question). Numbers: the data has no "value" (above); the text may have any number.
        own = page.split(f'id="q-{q.id}"', 1)[1].split("</fieldset>", 1)[0] + json.dumps(data, ensure_ascii=False)
        for a in q.answers if q.type == "short" else []:
            assert a.text.markdown.strip() not in html.unescape(own), (q.id, a.text.markdown)


def test_a_forged_score_in_the_state_api_is_ignored(tool):
    launch_id, page = launch(tool, "f1")
    forged = {"progress": 1.0, "completion": "completed", "success": "passed", "score": 100, "final": True,
              "interactions": [{"id": "x", "result": "correct"}]}
    assert put_state(tool, launch_id, csrf_of(page), forged).status_code == 204
    with tool.tool.Session() as session:
        row = session.scalar(select(Progress).where(Progress.user_id == "f1"))
        assert (row.score, row.success, row.interactions) == (None, "unknown", [])
        assert session.scalars(select(OutboxScore).where(OutboxScore.user_id == "f1")).all() == []
    state = tool.state(launch_id, page).json()
    assert state["quiz"] == {"attempts": 0, "best": None, "last": None, "review": None, "checked": {}}
    # A score field in an attempt is no score either: only the answers count.
    sent = tool.client.post(f"/lti/attempt/{launch_id}", content=json.dumps({"answers": {}, "score": 100}),
                            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_of(page)})
    assert sent.status_code == 200 and sent.json()["score"] == 0


def test_forged_answers_get_exactly_the_score_they_earn(tool):
    launch_id, page = launch(tool, "f2")
    keys = tool.tool.quiz_keys(MODULE)
    quiz = tool.tool.course.quiz_for(MODULE)
    # Everything ticked in multiple choice, a wildcard typed as the short answer, a number off the key.
    forged = {}
    for q in quiz.questions:
        k = keys[q.id]
        forged[q.id] = {"multiple": [True] * len(k.get("answers", [])), "short": "*", "numerical": "1e308",
                        "single": 0, "truefalse": 1}.get(q.type, answer(k, True))
    expected, _ = scoring.attempt([keys[q.id] for q in quiz.questions], forged)
    response = tool.submit(launch_id, page, forged)
    assert response.status_code == 200
    assert response.json()["score"] == expected < 100
    with tool.tool.Session() as session:
        stored = session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == "f2"))
        assert (stored.number, stored.score, stored.scored_by, stored.answers) == (1, expected, "tool", forged)
        assert session.scalar(select(Progress.score).where(Progress.user_id == "f2")) == expected


@pytest.mark.parametrize("body", [{"answers": []}, {"score": 100}, {"answers": {"x": 1}, "extra": 1},
                                  "not json"])
def test_malformed_attempts_are_refused_or_earn_nothing(tool, body):
    launch_id, page = launch(tool, "f3", link="rl-malformed")
    sent = tool.client.post(f"/lti/attempt/{launch_id}", content=body if isinstance(body, str) else json.dumps(body),
                            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_of(page)})
    if isinstance(body, dict) and isinstance(body.get("answers"), dict):
        assert sent.status_code == 200 and sent.json()["score"] == 0  # an unknown question earns nothing
    else:
        assert sent.status_code == 422


def test_answers_of_the_wrong_shape_and_missing_tokens_are_refused(tool):
    launch_id, page = launch(tool, "f4", link="rl-shape")
    quiz = tool.tool.course.quiz_for(MODULE)
    multiple = next(q for q in quiz.questions if q.type == "multiple")
    assert tool.submit(launch_id, page, {multiple.id: "all"}).status_code == 422
    assert tool.client.post(f"/lti/attempt/{launch_id}", content=json.dumps({"answers": {}}),
                            headers={"Content-Type": "application/json", "X-CSRF-Token": "forged"}).status_code == 403
    with tool.tool.Session() as session:
        assert session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == "f4")).all() == []


def test_the_attempt_limit_holds_on_the_server_and_the_best_score_counts(tool):
    launch_id, page = launch(tool, "a1", link="rl-limit")
    first = tool.submit(launch_id, page, tool.answers_scoring(MODULE, 87.5)).json()
    second = tool.submit(launch_id, page, tool.answers_scoring(MODULE, 50)).json()
    assert (first["attempts"], first["best"], second["attempts"], second["best"]) == (1, 87.5, 2, 87.5)
    third = tool.submit(launch_id, page, tool.answers_scoring(MODULE, 100))
    assert third.status_code == 409 and third.json()["code"] == "no_attempts_left"
    state = tool.state(launch_id, page).json()["quiz"]
    assert (state["attempts"], state["best"], state["last"]) == (2, 87.5, 50)
    with tool.tool.Session() as session:
        assert session.scalar(select(Progress.success).where(Progress.user_id == "a1")) == "passed"


def test_the_review_follows_the_feedback_policy(tool, monkeypatch):
    quiz = tool.tool.course.quiz_for(MODULE)
    first = quiz.questions[0]
    launch_id, page = launch(tool, "p1", link="rl-policy-after")
    review = tool.submit(launch_id, page, tool.answers_scoring(MODULE, 37.5)).json()["review"]
    assert review[first.id]["result"] == "incorrect" and review[first.id]["marks"]
    monkeypatch.setattr(quiz.meta, "feedback", "after-last-attempt")
    launch_id, page = launch(tool, "p2", link="rl-policy-last")
    one = tool.submit(launch_id, page, tool.answers_scoring(MODULE, 37.5)).json()
    assert one["score"] == 37.5 and one["review"] is None  # an attempt is left: no markers, no feedback
    assert tool.state(launch_id, page).json()["quiz"]["review"] is None
    two = tool.submit(launch_id, page, tool.answers_scoring(MODULE, 50)).json()
    assert two["review"][first.id]["result"] == "incorrect"  # the last one: its review is shown
    assert tool.state(launch_id, page).json()["quiz"]["review"] == two["review"]


def test_states_stored_before_the_tool_graded_migrate(tmp_path):
    from alembic import command
    from alembic.config import Config

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrate.__code__.co_filename).parent / "migrations"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
        connection.execute(text(
            "INSERT INTO platforms (id, name, issuer, client_id, auth_login_url, auth_token_url, jwks_url, "
            "trusted_audiences, jwks_fetched_at, created_at) VALUES (1, '', 'i', 'c', 'l', 't', 'j', '[]', 0, 0)"))
        for user, state, score in (("old1", "1|3|f|2|1|80|62.5|0~~", 80.0), ("old2", "1|0|1|0|0|||", None),
                                   ("old3", "garbage", 55.0)):
            connection.execute(text(
                "INSERT INTO progress (platform_id, resource_link_id, user_id, context_id, module_id, location, "
                "state, progress, completion, success, score, interactions, updated_at) VALUES "
                "(1, 'rl', :user, 'c', 'grundlagen', NULL, :state, 1.0, 'completed', 'passed', :score, '[]', 7)"),
                {"user": user, "state": state, "score": score})
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT user_id, number, score, scored_by, created_at FROM quiz_attempts "
                                       "ORDER BY user_id")).all()
    assert [tuple(r) for r in rows] == [("old1", 2, 80.0, "browser", 7), ("old3", 1, 55.0, "browser", 7)]
    engine.dispose()


def test_immediate_feedback_checks_one_question_and_the_first_answer_stands(tool, monkeypatch):
    quiz = tool.tool.course.quiz_for(MODULE)
    keys = tool.tool.quiz_keys(MODULE)
    first = quiz.questions[0]
    launch_id, page = launch(tool, "i1", link="rl-immediate")

    def check(qid, value):
        return tool.client.post(f"/lti/attempt/{launch_id}", content=json.dumps({"check": qid, "answer": value}),
                                headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_of(page)})

    assert check(first.id, answer(keys[first.id], False)).status_code == 409  # after-attempt: no checking
    monkeypatch.setattr(quiz.meta, "feedback", "immediate")
    wrong = check(first.id, answer(keys[first.id], False))
    assert wrong.status_code == 200 and wrong.json()["review"][first.id]["result"] == "incorrect"
    # Trying the right option after seeing "wrong" changes nothing: the checked answer stands.
    again = check(first.id, answer(keys[first.id], True)).json()
    assert again == wrong.json()
    state = tool.state(launch_id, page).json()["quiz"]
    assert state["checked"] == wrong.json()["review"]
    everything_right = {q.id: answer(keys[q.id], True) for q in quiz.questions}
    submitted = tool.submit(launch_id, page, everything_right).json()
    assert submitted["review"][first.id]["result"] == "incorrect" and submitted["score"] < 100
    assert tool.state(launch_id, page).json()["quiz"]["checked"] == {}
    essay = next(q for q in quiz.questions if q.type == "essay")
    assert check(essay.id, "Text").status_code == 422


def test_the_tool_draws_from_the_item_pools_and_grades_only_the_drawn(tool, monkeypatch):
    quiz = tool.tool.course.quiz_for(MODULE)
    keys = tool.tool.quiz_keys(MODULE)
    monkeypatch.setattr(quiz.meta, "draw", ["1 from ziel", "2 from anwenden"])
    pool = {q.id: "ziel" if "ziel" in q.objectives else "anwenden" for q in quiz.questions}
    launch_id, page = launch(tool, "d1", link="rl-draw")
    drawn = tool.state(launch_id, page).json()["quiz"]["drawn"]
    assert sorted(pool[q] for q in drawn) == ["anwenden", "anwenden", "ziel"]
    assert tool.state(launch_id, page).json()["quiz"]["drawn"] == drawn  # a reload keeps it
    # Every question answered right: only the drawn ones are graded, and they score 100.
    everything = {q.id: answer(keys[q.id], True) for q in quiz.questions}
    result = tool.submit(launch_id, page, everything).json()
    assert set(result["review"]) == set(drawn) and result["score"] == 100
    assert sorted(pool[q] for q in result["drawn"]) == ["anwenden", "anwenden", "ziel"]  # the next attempt's
    with tool.tool.Session() as session:
        stored = session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == "d1"))
        assert set(stored.answers) == set(drawn)
    # An undrawn question cannot be checked into the attempt either.
    monkeypatch.setattr(quiz.meta, "feedback", "immediate")
    undrawn = next(q for q in quiz.questions if q.id not in result["drawn"] and q.type != "essay")
    sent = tool.client.post(f"/lti/attempt/{launch_id}", content=json.dumps({"check": undrawn.id, "answer": None}),
                            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_of(page)})
    assert sent.status_code == 422
