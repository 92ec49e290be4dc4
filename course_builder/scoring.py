"""Grading a quiz attempt: the rules learner.js applies in the browser, for deliveries that must not
trust the browser (the LTI tool grades what the runtime sends).

Both graders take the same input: a question's page data merged with its key (player.question_data +
player.question_key) and an answer in the runtime's shape:

| type | answer |
| --- | --- |
| single, truefalse | index of the chosen option in `answers`, or null |
| multiple | one boolean per option |
| short, numerical, essay | the text typed |
| matching | per pair, the index of the chosen right-hand side (-1: none) |
| ordering | per item (as listed), the position chosen (1…n, 0: none) |

tests/fixtures/scoring_cases.json holds cases both graders must agree on (tests/test_scoring.py runs
learner.js in node on them). Change a rule in both places or neither.
"""

from __future__ import annotations

import math
import random
import re

CHOICE_TYPES = ("single", "truefalse")
NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?", re.IGNORECASE | re.ASCII)
WHITESPACE = re.compile(r"\s")


def merged(data: dict, key: dict) -> dict:
    """Page data and key in one dict; lists of options are merged item by item."""
    out = dict(data)
    for name, value in key.items():
        if isinstance(value, list) and isinstance(out.get(name), list) and len(out[name]) == len(value):
            out[name] = [{**a, **b} for a, b in zip(out[name], value)]
        else:
            out[name] = value
    return out


def round2(x: float) -> float:
    """Math.round(x * 100) / 100: halves go up, as in the browser."""
    return math.floor(x * 100 + 0.5) / 100


def number(text: str) -> float | None:
    """A number as a learner types it: spaces ignored, a decimal comma allowed."""
    t = WHITESPACE.sub("", str(text).strip()).replace(",", ".", 1)
    return float(t) if NUMBER.fullmatch(t) else None


def text_matches(pattern: str, text: str, case_sensitive: bool) -> bool:
    """Moodle's short-answer rule: the whole answer, `*` for any characters."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text.strip(), 0 if case_sensitive else re.IGNORECASE) is not None


def _is_index(v, n: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n


def _item(v, i: int):
    return v[i] if isinstance(v, list) and i < len(v) else None


def grade(q: dict, v) -> dict | None:
    """{fraction, result, key (the short/numerical answer matched), parts (matching/ordering)}; None for essays."""
    if q["type"] == "essay":
        return None
    fraction, matched, parts = 0.0, None, []
    if q["type"] in CHOICE_TYPES:
        if _is_index(v, len(q["answers"])):
            fraction = q["answers"][v]["weight"] / 100
    elif q["type"] == "multiple":
        for i, a in enumerate(q["answers"]):
            if _item(v, i) is True:
                fraction += a["weight"] / 100
    elif q["type"] in ("short", "numerical"):
        text = v if isinstance(v, str) else ""
        x = number(text) if q["type"] == "numerical" else None
        for a in q["answers"]:
            if q["type"] == "short":
                ok = text.strip() != "" and text_matches(a["text"], text, q.get("caseSensitive", False))
            else:
                ok = x is not None and abs(x - a["value"]) <= a["tolerance"] + 1e-9
            if ok:
                matched, fraction = a["key"], a["weight"] / 100
                break
    elif q["type"] == "matching":
        parts = [_is_index(_item(v, i), q["rights"]) and _item(v, i) == p["right"] for i, p in enumerate(q["pairs"])]
        fraction = sum(parts) / len(parts)
    elif q["type"] == "ordering":
        parts = [_is_index(_item(v, i), len(q["items"]) + 1) and _item(v, i) == position
                 for i, position in enumerate(q["order"])]
        fraction = sum(parts) / len(parts)
    fraction = max(0.0, min(1.0, fraction))
    result = "correct" if fraction > 0.9999 else "partly" if fraction > 0 else "incorrect"
    return {"fraction": fraction, "result": result, "key": matched, "parts": parts}


def review(q: dict, v, g: dict | None) -> dict:
    """What the learner is shown after grading: the result, right/wrong per chosen option, pair or
    item (marks) with that option's feedback, and the question's own feedback."""
    marks: dict[str, bool] = {}
    if g is not None:
        if q["type"] in CHOICE_TYPES or q["type"] == "multiple":
            for i, a in enumerate(q["answers"]):
                if (_item(v, i) is True) if q["type"] == "multiple" else v == i and _is_index(v, len(q["answers"])):
                    marks[a["key"]] = a["correct"]
        elif q["type"] in ("short", "numerical"):
            if g["key"]:
                marks[g["key"]] = g["result"] == "correct"
        else:
            keys = [p["key"] for p in q["pairs"]] if q["type"] == "matching" else q["items"]
            marks = dict(zip(keys, g["parts"]))
    fbq = q.get("fbq", {})
    return {"result": g["result"] if g else None, "marks": marks,
            "fb": {k: q.get("fb", {})[k] for k in marks if k in q.get("fb", {})},
            "specific": fbq.get(g["result"]) if g else None, "general": fbq.get("general")}


def attempt(questions: list[dict], answers: dict) -> tuple[float, dict]:
    """(score 0–100, review per question id) of one attempt; answers by question id, missing = open."""
    earned, points, reviews = 0.0, 0.0, {}
    for q in questions:
        v = answers.get(q["id"])
        g = grade(q, v)
        if g is not None:
            earned += g["fraction"] * q["points"]
            points += q["points"]
        reviews[q["id"]] = review(q, v, g)
    return (round2(earned / points * 100) if points > 0 else 0.0), reviews


def reveals(policy: str, attempts_left: float, best: float | None, pass_mark: float) -> bool:
    """Whether an attempt's review may be shown now (the quiz's `feedback:` policy)."""
    if policy != "after-last-attempt":
        return True
    return attempts_left == 0 or (best is not None and best >= pass_mark)


def draw(pools: list[tuple[int, list[str]]], rng: random.Random) -> list[str]:
    """The question ids one attempt asks: `count` from each pool (Quiz.pools, as ids), at random."""
    return [qid for count, members in pools for qid in rng.sample(members, min(count, len(members)))]
