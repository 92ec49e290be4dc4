"""The one attempt model every source of results is read into.

An adapter (lti_db, moodle_responses, scorm_interactions) turns its source into `Attempt`s of one quiz
of the course: the learner as a keyed pseudonym (pseudonym.py), never a name or an email address.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ResultsError(Exception):
    """Input that does not fit the course: the message names what did not match; nothing is written."""


@dataclass(frozen=True)
class QuestionResponse:
    """One question of one attempt: what the learner chose and what it earned."""

    question_id: str
    fraction: float  # 0–1 of the question's marks
    choices: tuple[str, ...] = ()  # the option keys chosen (player.choices keys), or the typed text
    seconds: float | None = None  # time on the question (SCORM latency), where the source has it


@dataclass
class Attempt:
    learner: str  # pseudonym
    quiz_id: str
    number: int  # 1, 2, … per learner and quiz
    responses: dict[str, QuestionResponse] = field(default_factory=dict)
    started: int | None = None  # Unix seconds, where the source has it
    seconds: float | None = None  # time taken for the whole attempt

    def mark(self, points: dict[str, float]) -> float:
        return sum(r.fraction * points.get(qid, 1.0) for qid, r in self.responses.items())


def chosen(attempts: list[Attempt], which: str) -> list[Attempt]:
    """The attempts the statistics take, as Moodle's "attempts to include": all, or one per learner
    (first, last, or the highest-graded, ties to the earlier one)."""
    if which == "all":
        return list(attempts)
    by_learner: dict[tuple[str, str], list[Attempt]] = {}
    for a in attempts:
        by_learner.setdefault((a.quiz_id, a.learner), []).append(a)
    picked = []
    for group in by_learner.values():
        group.sort(key=lambda a: a.number)
        if which == "first":
            picked.append(group[0])
        elif which == "last":
            picked.append(group[-1])
        else:
            picked.append(max(group, key=lambda a: (sum(r.fraction for r in a.responses.values()), -a.number)))
    return picked
