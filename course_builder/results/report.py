"""`course report`: one self-contained HTML page (or JSON) of an Analysis, linked to the source lines."""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

from ..i18n import strings
from ..model import Course, ResultsThresholds
from . import Analysis
from .charts import bars, histogram
from .options import shorten

CSS = """body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border-bottom:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;
font-weight:600}a{color:#0b4f8a}.flag{color:#8a1010;font-weight:600}figure{margin:1rem 0}img{max-width:100%}
ul.resp{margin:.3rem 0 0;padding-left:1rem;min-width:16rem}.wrap{overflow-x:auto}th[scope=row]{font-weight:400}"""


def _pct(x: float | None, none: str) -> str:
    return none if x is None else f"{x * 100:.2f} %"


def _num(x: float | None, none: str, digits: int = 2) -> str:
    return none if x is None else f"{x:.{digits}f}"


def _source(course: Course, loc, out_dir: Path) -> tuple[str, str]:
    """(text, href) of a source position: the path relative to the course, linked from where the report is."""
    path = Path(loc.file)
    try:
        text = path.resolve().relative_to(course.root.resolve()).as_posix()
    except ValueError:
        text = path.name
    href = os.path.relpath(path.resolve(), out_dir.resolve()).replace(os.sep, "/")
    return f"{text}:{loc.line}", f"{href}#L{loc.line}"


def as_json(course: Course, analysis: Analysis) -> str:
    def loc(l):
        return {"file": str(Path(l.file).resolve().relative_to(course.root.resolve())) if Path(l.file).is_absolute()
                and Path(l.file).resolve().is_relative_to(course.root.resolve()) else l.file, "line": l.line, "column": l.col}

    quizzes = []
    for qs in analysis.quizzes:
        quizzes.append({
            "quiz": qs.quiz.id, "source": loc(qs.quiz.loc), "attempts": qs.attempts, "learners": qs.learners,
            "mean_percent": qs.mean, "sd_percent": qs.sd, "median_seconds": qs.median_seconds,
            "questions": [{
                "id": st.question.id, "type": st.question.type, "source": loc(st.question.loc), "attempts": st.s,
                "facility": st.facility, "sd": st.sd, "random_guess_score": st.random_guess,
                "discrimination_index": st.discrimination, "discriminative_efficiency": st.efficiency,
                "median_seconds": st.median_seconds,
                "responses": [{"key": r.key, "label": r.label, "correct": r.correct, "count": r.count}
                              for r in st.responses]} for st in qs.questions]})
    mastery = [{"objective": m.objective_id, "source": loc(m.loc), "learners": m.learners, "mastered": m.mastered,
                "share": m.share} for m in analysis.mastery]
    return json.dumps({"course": course.id, "attempts_counted": analysis.which, "quizzes": quizzes,
                       "objectives": mastery}, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def as_html(course: Course, analysis: Analysis, out_dir: Path, limits: ResultsThresholds) -> str:
    lang = course.spec.language if course.spec else "de"
    t = strings(lang)
    none = t["report_none"]
    attempts = sum(q.attempts for q in analysis.quizzes)
    learners = max((q.learners for q in analysis.quizzes), default=0)
    parts = [f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
             f'<meta name="viewport" content="width=device-width, initial-scale=1">'
             f'<title>{escape(t["report_title"].format(course=course.title))}</title><style>{CSS}</style></head><body>'
             f'<main><h1>{escape(t["report_title"].format(course=course.title))}</h1>'
             f'<p>{escape(t["report_intro"].format(attempts=attempts, learners=learners, which=t["report_which_" + analysis.which]))}</p>']
    for qs in analysis.quizzes:
        title = qs.quiz.title
        text, href = _source(course, qs.quiz.loc, out_dir)
        parts.append(f'<section aria-labelledby="q-{escape(qs.quiz.id)}"><h2 id="q-{escape(qs.quiz.id)}">{escape(title)}</h2>'
                     f'<p><a href="{escape(href)}">{escape(text)}</a> · '
                     f'{escape(t["report_quiz_summary"].format(attempts=qs.attempts, mean=_num(qs.mean, none, 1) + " %", sd=_num(qs.sd, none, 1)))}</p>')
        if qs.totals:
            caption = t["report_totals_chart"].format(quiz=title)
            parts.append(f'<figure><img src="{histogram(qs.totals, "%", "n")}" alt="{escape(caption)}">'
                         f'<figcaption>{escape(caption)}</figcaption></figure>')
        shown = [st for st in qs.questions if st.facility is not None]
        if shown:
            caption = t["report_facility_chart"].format(quiz=title)
            img = bars([st.question.id for st in shown], [st.facility for st in shown], t["report_facility"],
                       limits.facility_low, limits.facility_high)
            parts.append(f'<figure><img src="{img}" alt="{escape(caption)}"><figcaption>{escape(caption)}</figcaption></figure>')
        heads = ["report_question", "report_source", "report_n", "report_facility", "report_sd", "report_guess",
                 "report_discrimination", "report_efficiency", "report_time", "report_responses"]
        parts.append(f'<div class="wrap" tabindex="0" role="region" aria-label="{escape(title)}">'
                     f'<table><caption>{escape(title)}</caption><thead><tr>'
                     + "".join(f'<th scope="col">{escape(t[h])}</th>' for h in heads) + "</tr></thead><tbody>")
        for st in qs.questions:
            text, href = _source(course, st.question.loc, out_dir)
            flag = st.s >= limits.min_attempts and st.facility is not None and not (
                limits.facility_low <= st.facility <= limits.facility_high)
            responses = "".join(
                f'<li>{escape(shorten(r.label, 60))}{" (" + escape(t["report_right"]) + ")" if r.correct else ""}: {r.count}</li>'
                for r in st.responses[:12])
            responses = (f'<details><summary>{len(st.responses)}</summary><ul class="resp">{responses}</ul></details>'
                         if responses else none)
            parts.append(
                f'<tr><th scope="row">{escape(st.question.name or st.question.id)}</th><td><a href="{escape(href)}">{escape(text)}</a></td>'
                f'<td class="n">{st.s}</td><td class="n{" flag" if flag else ""}">{_pct(st.facility, none)}</td>'
                f'<td class="n">{_pct(st.sd, none)}</td><td class="n">{_pct(st.random_guess, none)}</td>'
                f'<td class="n">{_num(st.discrimination, none)} %</td><td class="n">{_num(st.efficiency, none)} %</td>'
                f'<td class="n">{_num(st.median_seconds, none, 0) + " s" if st.median_seconds is not None else none}</td>'
                f'<td>{responses}</td></tr>')
        parts.append("</tbody></table></div></section>")
    if analysis.mastery:
        parts.append(f'<section aria-labelledby="mastery"><h2 id="mastery">{escape(t["report_mastery"])}</h2><table>'
                     f'<caption>{escape(t["report_mastery"])}</caption><thead><tr>'
                     + "".join(f'<th scope="col">{escape(t[h])}</th>' for h in
                               ("report_objective", "report_source", "report_learners", "report_mastered"))
                     + "</tr></thead><tbody>")
        for m in analysis.mastery:
            text, href = _source(course, m.loc, out_dir)
            parts.append(f'<tr><th scope="row">{escape(m.objective_id)}: {escape(m.text)}</th>'
                         f'<td><a href="{escape(href)}">{escape(text)}</a></td><td class="n">{m.learners}</td>'
                         f'<td class="n">{_pct(m.share, none)}</td></tr>')
        parts.append("</tbody></table></section>")
    parts.append("</main></body></html>\n")
    return "".join(parts)
