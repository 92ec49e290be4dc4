"""`course check --results`: what the statistics say about a question, as warnings at its source line."""

from __future__ import annotations

from .. import diagnostics as d
from ..model import ResultsThresholds
from . import Analysis
from .options import shorten


def findings(analysis: Analysis, limits: ResultsThresholds) -> list[d.Diagnostic]:
    out = []
    for quiz in analysis.quizzes:
        for st in quiz.questions:
            q = st.question
            if st.s < limits.min_attempts or st.facility is None:
                continue  # too few attempts to claim anything
            where = f"over {st.s} attempts"
            if st.facility > limits.facility_high:
                out.append(d.diag(d.RESULTS_EASY, q.loc, f"'{q.id}': facility {st.facility:.2f} {where}: too easy",
                                  f"facility above checks.results.facility_high ({limits.facility_high}); "
                                  "make the distractors more plausible or drop the question"))
            elif st.facility < limits.facility_low:
                out.append(d.diag(d.RESULTS_HARD, q.loc, f"'{q.id}': facility {st.facility:.2f} {where}: too hard",
                                  f"facility below checks.results.facility_low ({limits.facility_low}); "
                                  "check the key, the wording and whether the lesson teaches it"))
            if st.discrimination is not None:
                di = st.discrimination / 100
                if di < 0:
                    out.append(d.diag(d.RESULTS_DISCRIMINATION, q.loc,
                                      f"'{q.id}': discrimination {di:.2f} {where}: strong learners get this wrong "
                                      "— check the key", "a negative index means the learners with high totals "
                                      "score lower on this question than the others"))
                elif di < limits.discrimination_low:
                    out.append(d.diag(d.RESULTS_DISCRIMINATION, q.loc,
                                      f"'{q.id}': discrimination {di:.2f} {where}: hardly separates strong from "
                                      "weak learners", f"below checks.results.discrimination_low ({limits.discrimination_low})"))
            for r in st.responses:
                if r.correct is False and r.count < limits.distractor_share * st.s:
                    answer = next((a for key, a in _choices(q) if key == r.key), None)
                    out.append(d.diag(d.RESULTS_DISTRACTOR, answer.loc if answer is not None else q.loc,
                                      f"'{q.id}': distractor '{shorten(r.label, 40)}' chosen by {r.count} of {st.s}",
                                      "a distractor nobody picks only makes the question easier to guess; "
                                      "replace it with a common misconception"))
    return out


def _choices(q):
    from ..player import choices

    return choices(q)
