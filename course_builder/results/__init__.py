"""Results loop: attempts from the LTI tool, Moodle's quiz Responses or SCORM Interactions exports,
analysed as Moodle's Statistics report does and tied back to the source lines (docs/results.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..model import Course
from .attempt import Attempt, ResultsError, chosen
from .pseudonym import Pseudonymiser, key_for
from .stats import QuizStats, quiz_stats

__all__ = ["Analysis", "ResultsError", "analyse", "load_attempts"]


def _is_database(source: str) -> bool:
    if "://" in source:
        return True
    try:
        with open(source, "rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def load_attempts(course: Course, sources: list[str], cache_dir: Path | None = None,
                  quiz_id: str | None = None) -> list[Attempt]:
    """Every attempt of every source, learners pseudonymised as they are read."""
    from . import lti_db, moodle_responses, scorm_interactions
    from .tables import read_table

    pseudonym = Pseudonymiser(key_for(cache_dir))
    attempts: list[Attempt] = []
    for source in sources:
        if _is_database(source):
            url = source if "://" in source else f"sqlite:///{Path(source).resolve()}"
            attempts += lti_db.read(course, url, pseudonym, quiz_id)
            continue
        path = Path(source)
        if not path.is_file():
            raise ResultsError(f"{source}: no such file, and not a database URL (sqlite:///…, postgresql+psycopg://…)")
        table = read_table(path)
        adapter = scorm_interactions if scorm_interactions.looks_like(table[0]) else moodle_responses
        found = adapter.read(course, path, pseudonym, quiz_id, table)
        if not found:
            raise ResultsError(f"{source}: the export holds no attempt")
        attempts += found
    return attempts


@dataclass
class Mastery:
    objective_id: str
    text: str
    loc: object
    learners: int  # learners who answered at least one question of the objective
    mastered: int  # of them, those at or above the pass mark on its questions
    questions: int

    @property
    def share(self) -> float | None:
        return self.mastered / self.learners if self.learners else None


@dataclass
class Analysis:
    quizzes: list[QuizStats]
    mastery: list[Mastery] = field(default_factory=list)
    which: str = "best"


def _pass_mark(course: Course, quiz) -> float:
    if quiz.meta.pass_mark is not None:
        return quiz.meta.pass_mark
    module = course.module(quiz.module) if quiz.module else None
    return module.pass_mark if module else 70.0


def analyse(course: Course, attempts: list[Attempt], which: str = "best") -> Analysis:
    from .options import labels

    taken = chosen(attempts, which)
    by_quiz: dict[str, list[Attempt]] = {}
    for a in taken:
        by_quiz.setdefault(a.quiz_id, []).append(a)
    quizzes = [quiz_stats(q, by_quiz[q.id], labels) for q in course.quizzes if q.id in by_quiz]
    return Analysis(quizzes=quizzes, mastery=_mastery(course, by_quiz), which=which)


def _mastery(course: Course, by_quiz: dict[str, list[Attempt]]) -> list[Mastery]:
    out = []
    for module in course.modules:
        for objective in module.spec.objectives:
            earned: dict[str, list[float]] = {}  # learner → [earned, possible, pass mark]
            count = 0
            for quiz in course.quizzes:
                tagged = [q for q in quiz.questions if objective.id in q.objectives and q.auto_graded]
                count += len(tagged)
                if not tagged or quiz.id not in by_quiz:
                    continue
                mark = _pass_mark(course, quiz)
                for a in by_quiz[quiz.id]:
                    for q in tagged:
                        r = a.responses.get(q.id)
                        if r is not None:
                            e = earned.setdefault(a.learner, [0.0, 0.0, mark])
                            e[0] += r.fraction * q.points
                            e[1] += q.points
            if earned:  # objectives no analysed quiz asks stay out of the table
                mastered = sum(1 for e, p, m in earned.values() if p and 100 * e / p >= m - 1e-9)
                out.append(Mastery(objective.id, objective.text, objective.loc, len(earned), mastered, count))
    return out
