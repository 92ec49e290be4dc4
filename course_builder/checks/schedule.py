"""The schedule: dates inside the course, weekly webinars, no overlaps, every module placed, time budget."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from .. import diagnostics as d
from ..diagnostics import Diagnostic
from ..model import Course, TimeRange
from . import check


def _fmt(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


@check
def dates_inside_course(course: Course) -> list[Diagnostic]:
    spec = course.spec
    if spec is None:
        return []
    start, end = spec.cohort.start, spec.cohort.end
    span = f"{_fmt(start)}–{_fmt(end)}"
    out = []

    def inside(day: dt.date, loc, what: str) -> None:
        if not start <= day <= end:
            out.append(d.diag(d.SCHED_OUTSIDE, loc, f"{what} on {_fmt(day)} lies outside the course ({span})",
                              "move the date, or change cohort.start / cohort.weeks"))

    sched = spec.schedule
    for s in sched.sessions:
        inside(s.start, s.field_loc("start"), f"session '{s.id}'")
        if s.end != s.start:
            inside(s.end, s.field_loc("days"), f"the last day of session '{s.id}'")
    for w in sched.webinars:
        inside(w.date, w.field_loc("date"), "webinar")
    for ms in sched.milestones:
        inside(ms.date, ms.field_loc("date"), f"milestone '{ms.title}'")
    for task in course.tasks:
        if task.meta.due:
            inside(task.meta.due, task.meta.field_loc("due"), f"the due date of '{task.id}'")
    for a in sched.alumni:
        if a.date <= end:
            out.append(d.diag(d.SCHED_OUTSIDE, a.field_loc("date"), f"alumni meeting on {_fmt(a.date)} is not after the course",
                              f"alumni meetings follow the course, which ends on {_fmt(end)}"))
    for s in sched.self_study:
        if not 1 <= s.week <= spec.cohort.weeks:
            out.append(d.diag(d.SCHED_WEEK, s.field_loc("week"), f"week {s.week} is outside the course (1–{spec.cohort.weeks})",
                              "use a week number of the course"))
    return out


@check
def time_ranges_valid(course: Course) -> list[Diagnostic]:
    if course.spec is None:
        return []
    out = []
    sched = course.spec.schedule
    for item in [*sched.webinars, *sched.sessions, *sched.alumni]:
        if item.time:
            begin, end = TimeRange.minutes(item.time)
            if end <= begin:
                out.append(d.diag(d.SCHED_BAD_TIME, item.field_loc("time"), f"time '{item.time}' ends before it starts",
                                  "write start-end, e.g. 16:30-18:00"))
    return out


@check
def webinars_weekly(course: Course) -> list[Diagnostic]:
    spec = course.spec
    if spec is None or not spec.schedule.webinars:
        return []
    out = []
    webinars = sorted(spec.schedule.webinars, key=lambda w: w.date)
    by_week = defaultdict(list)
    for w in webinars:
        by_week[spec.cohort.week_of(w.date)].append(w)
    for week, items in sorted(by_week.items()):
        for extra in items[1:]:
            out.append(d.diag(d.SCHED_NOT_WEEKLY, extra.field_loc("date"),
                              f"second webinar in week {week} (first on {_fmt(items[0].date)})",
                              "one webinar a week: move it to a week without one"))
    weeks = spec.cohort.weeks
    missing = [w for w in range(1, weeks + 1) if w not in by_week]
    if missing:
        out.append(d.diag(d.SCHED_NOT_WEEKLY, spec.schedule.field_loc("webinars"),
                          f"no webinar in week(s) {', '.join(map(str, missing))} of {weeks}",
                          "plan one webinar a week"))
    weekdays = {w.date.weekday() for w in webinars}
    if len(weekdays) > 1:
        usual = max(weekdays, key=lambda wd: sum(w.date.weekday() == wd for w in webinars))
        for w in webinars:
            if w.date.weekday() != usual:
                out.append(d.diag(d.SCHED_NOT_WEEKLY, w.field_loc("date"),
                                  f"webinar on {_fmt(w.date)} is on another weekday than the others",
                                  "keep webinars on one weekday so that participants can plan"))
    return out


def _interval(day: dt.date, time: str | None) -> tuple[dt.datetime, dt.datetime]:
    if time:
        begin, end = TimeRange.minutes(time)
    else:
        begin, end = 0, 24 * 60
    base = dt.datetime.combine(day, dt.time())
    return base + dt.timedelta(minutes=begin), base + dt.timedelta(minutes=end)


@check
def sessions_do_not_overlap(course: Course) -> list[Diagnostic]:
    if course.spec is None:
        return []
    sched = course.spec.schedule
    events = []  # (start, end, label, loc)
    for s in sched.sessions:
        for i in range(s.days):
            day = s.start + dt.timedelta(days=i)
            events.append((*_interval(day, s.time), f"session '{s.id}'", s.field_loc("start")))
    for w in sched.webinars:
        events.append((*_interval(w.date, w.time), f"webinar '{w.topic}'", w.field_loc("date")))
    events.sort(key=lambda e: (e[0], e[1], e[3]))
    out = []
    for i, (b1, e1, label1, loc1) in enumerate(events):
        for b2, e2, label2, loc2 in events[i + 1:]:
            if b2 >= e1:
                break
            if label1 == label2:
                continue
            later = max(loc1, loc2)
            out.append(d.diag(d.SCHED_OVERLAP, later, f"{label2} overlaps {label1} on {_fmt(b2.date())}",
                              "move one of them"))
    return out


@check
def modules_placed(course: Course) -> list[Diagnostic]:
    if course.spec is None:
        return []
    sched = course.spec.schedule
    placed = {ref for w in sched.webinars for ref in w.modules} | {ref for s in sched.self_study for ref in s.modules}
    return [
        d.diag(d.SCHED_UNPLACED, m.loc, f"module '{m.id}' appears in no webinar and no self-study week",
               "add it to schedule.self_study (week and modules) or to a webinar's modules")
        for m in course.modules
        if m.id not in placed
    ]


@check
def weekly_study_budget(course: Course) -> list[Diagnostic]:
    spec = course.spec
    if spec is None or not spec.study_minutes_per_week:
        return []
    load: dict[int, float] = defaultdict(float)
    weeks_of: dict[str, list[int]] = defaultdict(list)
    for s in spec.schedule.self_study:
        for ref in s.modules:
            weeks_of[ref].append(s.week)
    for m in course.modules:
        weeks = weeks_of.get(m.id)
        if weeks:
            share = course.module_minutes(m) / len(weeks)
            for w in weeks:
                load[w] += share
    for w in spec.schedule.webinars:
        load[spec.cohort.week_of(w.date)] += w.minutes
    budget = spec.study_minutes_per_week
    loc = spec.field_loc("study_minutes_per_week")
    return [
        d.diag(d.SCHED_BUDGET, loc, f"week {week} needs {minutes:.0f} minutes, the budget is {budget}",
               "spread the module over more self-study weeks, shorten it, or raise study_minutes_per_week")
        for week, minutes in sorted(load.items())
        if minutes > budget + 0.5
    ]


def _self_study_weeks(course: Course) -> dict[str, list[int]]:
    weeks: dict[str, list[int]] = defaultdict(list)
    for s in course.spec.schedule.self_study:
        for ref in s.modules:
            weeks[ref].append(s.week)
    return weeks


@check
def graded_tasks_due(course: Course) -> list[Diagnostic]:
    """A graded task needs a deadline learners can plan with, and one after its module is studied.

    Moodle shows `due` as the assignment's deadline; without it the task never appears in the
    learners' timeline. "Graded" means: assessed against criteria, or counted by the certificate.
    """
    spec = course.spec
    if spec is None:
        return []
    counted = {*spec.certificate.tasks_submitted, *spec.certificate.tasks_passed} if spec.certificate else set()
    weeks_of = _self_study_weeks(course)
    out = []
    for task in course.tasks:
        if task.kind == "reflection" or not (task.meta.criteria or task.id in counted):
            continue
        weeks = weeks_of.get(task.module or "", [])
        if task.meta.due is None:
            hint = "add `due: YYYY-MM-DD` to the task's front matter"
            if weeks:
                last = spec.cohort.week_start(max(weeks)) + dt.timedelta(days=6)
                hint += f", e.g. {last.isoformat()}, the end of the module's last self-study week ({max(weeks)})"
            out.append(d.diag(d.SCHED_NO_DUE, task.meta.loc, f"graded task '{task.id}' has no due date", hint))
        elif weeks and task.meta.due < spec.cohort.week_start(min(weeks)):
            out.append(d.diag(d.SCHED_DUE_EARLY, task.meta.field_loc("due"),
                              f"'{task.id}' is due on {_fmt(task.meta.due)}, before its module's first self-study week "
                              f"({min(weeks)}, from {_fmt(spec.cohort.week_start(min(weeks)))})",
                              "move the due date after the module's self-study weeks"))
    return out
