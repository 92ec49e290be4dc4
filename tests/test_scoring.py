"""One set of grading rules in two languages: course_builder/scoring.py (the LTI tool grades with it)
and learner.js (the SCORM and HTML runtime), held to the same hand-computed results in
tests/fixtures/scoring_cases.json. The JavaScript runs in node, from the shipped learner.js."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from course_builder import player, scoring
from course_builder.loader import load

from conftest import MINI

CASES = json.loads((Path(__file__).parent / "fixtures" / "scoring_cases.json").read_text(encoding="utf-8"))
QUESTIONS = {q["id"]: q for q in CASES["questions"]}
RUNTIME = Path(player.__file__).parent / "static" / "learner.js"

NODE_RUNNER = r"""
const rt = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const byId = Object.fromEntries(input.questions.map(q => [q.id, q]));
const graded = input.cases.map(c => {
  const q = byId[c.question], g = rt.grade(q, c.answer);
  return { grade: g, review: rt.review(q, c.answer, g) };
});
const sealed = input.sealed.map(s => rt.unseal(s.salt, { id: s.id, seal: s.seal }));
process.stdout.write(JSON.stringify({ graded, sealed }));
"""


def run_js(sealed: list[dict] | None = None) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    payload = json.dumps({**CASES, "sealed": sealed or []})
    out = subprocess.run([node, "-e", NODE_RUNNER, str(RUNTIME)], input=payload, capture_output=True, text=True,
                         check=True, timeout=30)
    return json.loads(out.stdout)


def python_grades() -> list[dict]:
    out = []
    for case in CASES["cases"]:
        q = QUESTIONS[case["question"]]
        g = scoring.grade(q, case["answer"])
        out.append({"grade": g, "review": scoring.review(q, case["answer"], g)})
    return out


@pytest.fixture(scope="module")
def js():
    return run_js()


@pytest.mark.parametrize("index", range(len(CASES["cases"])),
                         ids=[f"{c['question']}:{c['note'] or json.dumps(c['answer'], ensure_ascii=False)}"
                              for c in CASES["cases"]])
def test_both_graders_give_the_expected_result(index, js):
    case = CASES["cases"][index]
    py, from_js = python_grades()[index], js["graded"][index]
    expect = case["expect"]
    if expect is None:
        assert py["grade"] is None and from_js["grade"] is None
    else:
        assert py["grade"]["fraction"] == pytest.approx(expect["fraction"], abs=1e-6)
        for name in ("result", "key", "parts"):
            assert py["grade"][name] == expect[name], name
        # Not just close: the same number, so both sides round a score the same way.
        assert from_js["grade"] == py["grade"]
    assert py["review"]["marks"] == case["marks"]
    assert from_js["review"] == py["review"]


def test_a_review_carries_the_feedback_of_what_was_chosen_and_nothing_else():
    q = QUESTIONS["single"]
    r = scoring.review(q, 0, scoring.grade(q, 0))
    assert r == {"result": "incorrect", "marks": {"a1": False}, "fb": {"a1": "<p>Feedback a1</p>"},
                 "specific": "<p>Leider nein.</p>", "general": "<p>Allgemein.</p>"}


@pytest.mark.parametrize("attempt", CASES["attempts"])
def test_an_attempt_scores_as_the_runtime_does(attempt):
    score, reviews = scoring.attempt(CASES["questions"], attempt["answers"])
    assert score == attempt["score"]
    assert set(reviews) == set(QUESTIONS)


def test_the_feedback_policy():
    assert scoring.reveals("after-attempt", 2, 10.0, 70)
    assert scoring.reveals("immediate", 2, None, 70)
    assert not scoring.reveals("after-last-attempt", 2, 50.0, 70)
    assert not scoring.reveals("after-last-attempt", float("inf"), None, 70)
    assert scoring.reveals("after-last-attempt", 0, 50.0, 70)
    assert scoring.reveals("after-last-attempt", 1, 70.0, 70)


def test_keys_sealed_in_python_open_in_the_runtime_and_are_not_readable_in_the_seal():
    course = load(MINI).course
    sealed, keys = [], []
    for quiz in course.quizzes:
        for q in quiz.questions:
            key = player.question_key(q)
            keys.append(key)
            sealed.append({"salt": "0123abcd", "id": q.id, "seal": player.seal("0123abcd", q.id, key)})
    opened = run_js(sealed)["sealed"]
    assert opened == keys
    assert [player.unseal(s["salt"], s["id"], s["seal"]) for s in sealed] == keys
    joined = " ".join(s["seal"] for s in sealed)
    assert "correct" not in joined and "weight" not in joined
