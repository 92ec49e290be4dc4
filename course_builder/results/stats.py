"""Item statistics exactly as Moodle's quiz Statistics report computes them.

question/classes/statistics/questions/calculator.php (Moodle 4.5): per question, over the attempts
that include it, with mark = fraction × the question's marks and othermark = the attempt's total
minus this mark:

  facility              = mean(mark) / maxmark
  sd                    = sqrt(Σ(mark − mean)² / (s − 1)) / maxmark        (shown as a share of maxmark)
  discrimination index  = 100 · cov(mark, othermark) / sqrt(var(mark) · var(othermark))
  discriminative eff.   = 100 · cov(mark, othermark) / covmax, covmax pairing both lists sorted
  random guess score    = the question type's get_random_guess_score()

Variances and covariances divide by s − 1; with s < 2 they are None, as in Moodle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..model import Question, Quiz
from .attempt import Attempt


@dataclass
class ResponseCount:
    key: str  # option key, or the text typed
    label: str  # what the report shows
    correct: bool | None  # None: no such option (a text typed)
    count: int


@dataclass
class QuestionStats:
    question: Question
    s: int = 0
    facility: float | None = None
    sd: float | None = None
    random_guess: float | None = None
    discrimination: float | None = None  # Moodle's percent, −100…100
    efficiency: float | None = None  # percent
    responses: list[ResponseCount] = field(default_factory=list)
    median_seconds: float | None = None
    marks: list[float] = field(default_factory=list)  # fractions, for the distribution chart


@dataclass
class QuizStats:
    quiz: Quiz
    attempts: int
    learners: int
    mean: float | None  # percent of the quiz's marks
    sd: float | None
    median_seconds: float | None
    totals: list[float]  # percent per attempt
    questions: list[QuestionStats]


def random_guess_score(q: Question) -> float | None:
    """Moodle's get_random_guess_score() of the question type the targets compile q to."""
    if q.type == "truefalse":
        return 0.5
    if q.type == "single":
        return sum(a.weight for a in q.answers) / 100 / len(q.answers) if q.answers else None
    if q.type == "multiple":
        return None  # qtype_multichoice: "pretty much impossible to compute"
    if q.type == "matching":
        rights = {a.match.markdown.strip() for a in q.answers if a.match is not None}
        return 1 / len(rights) if rights else None
    if q.type in ("short", "numerical"):
        wild = [a for a in q.answers if a.text.markdown.strip() == "*"]
        return wild[0].weight / 100 if wild else 0.0
    return 0.0


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def question_stats(q: Question, marks: list[float], others: list[float]) -> QuestionStats:
    """Moodle's calculator for one question: marks and othermarks of the attempts that include it."""
    st = QuestionStats(question=q, s=len(marks), random_guess=random_guess_score(q))
    maxmark = q.points
    s = st.s
    if s == 0:
        return st
    mean = sum(marks) / s
    omean = sum(others) / s
    st.facility = mean / maxmark if maxmark else None
    if s < 2:
        return st
    var_sum = ovar_sum = cov_sum = 0.0
    for m, o in zip(marks, others):
        dm, do = m - mean, o - omean
        var_sum += dm * dm
        ovar_sum += do * do
        cov_sum += dm * do
    covmax_sum = sum((m - mean) * (o - omean) for m, o in zip(sorted(marks), sorted(others)))
    var, ovar, cov, covmax = (x / (s - 1) for x in (var_sum, ovar_sum, cov_sum, covmax_sum))
    st.sd = math.sqrt(var) / maxmark if maxmark else None
    st.discrimination = 100 * cov / math.sqrt(var * ovar) if var * ovar else None
    st.efficiency = 100 * cov / covmax if covmax else None
    return st


def quiz_stats(quiz: Quiz, attempts: list[Attempt], labels) -> QuizStats:
    """labels(question) → [(key, label, correct)] of its options, for the per-response counts."""
    points = {q.id: q.points for q in quiz.questions}
    totals = [a.mark(points) for a in attempts]
    per_question = []
    for q in quiz.questions:
        marks, others, seconds, counts = [], [], [], {}
        for a, total in zip(attempts, totals):
            r = a.responses.get(q.id)
            if r is None:
                continue
            mark = r.fraction * q.points
            marks.append(mark)
            others.append(total - mark)
            if r.seconds is not None:
                seconds.append(r.seconds)
            for key in r.choices:
                counts[key] = counts.get(key, 0) + 1
        st = question_stats(q, marks, others)
        st.marks = [m / q.points for m in marks] if q.points else []
        st.median_seconds = _median(seconds)
        known = labels(q)
        st.responses = [ResponseCount(key, label, correct, counts.pop(key, 0)) for key, label, correct in known]
        st.responses += [ResponseCount(key, key, None, n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        per_question.append(st)
    possible = sum(q.points for q in quiz.questions if any(q.id in a.responses for a in attempts)) or quiz.points
    percents = [100 * t / possible for t in totals] if possible else []
    mean = sum(percents) / len(percents) if percents else None
    sd = (math.sqrt(sum((p - mean) ** 2 for p in percents) / (len(percents) - 1))
          if mean is not None and len(percents) > 1 else None)
    durations = [a.seconds for a in attempts if a.seconds is not None]
    return QuizStats(quiz=quiz, attempts=len(attempts), learners=len({a.learner for a in attempts}), mean=mean,
                     sd=sd, median_seconds=_median(durations), totals=percents, questions=per_question)
