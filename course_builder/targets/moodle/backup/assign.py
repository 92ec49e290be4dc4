"""Assignments: the project (a group submission in the grouping "Projektgruppen", from the kickoff on) and a
module's graded assignments (one submission each), graded by the teachers with the task's criteria."""

from __future__ import annotations

from ....model import Task
from ..backup_xml import NULL, El, el
from ..bank import Text, text
from . import calendar, files, grades, page
from .plan import Backup
from .records import COMPLETION_AUTOMATIC, Activity, Section, epoch


def add(b: Backup, section: Section, task: Task) -> Activity:
    """The project (a group submission) or a module's graded assignment (one submission each)."""
    team = task.kind == "project"
    points = sum(c.points for c in task.meta.criteria) or 100
    intro = text(task.body, task.assets)
    intro = Text(intro.html + page.task_extras(b, task), intro.files)
    due = epoch(task.meta.due, "23:59") if task.meta.due else 0
    a = b.activity("assign", section, task.title, dict(
        name=task.title, intro=intro.html, introformat=1, alwaysshowdescription=1, submissiondrafts=1,
        sendnotifications=0, sendlatenotifications=0, sendstudentnotifications=1, duedate=due, cutoffdate=0,
        gradingduedate=0, allowsubmissionsfromdate=0, grade=int(points), timemodified=b.now,
        completionsubmit=1, requiresubmissionstatement=0, teamsubmission=int(team), requireallteammemberssubmit=0,
        teamsubmissiongroupingid=b.grouping_id if team else 0, blindmarking=0, hidegrader=0, revealidentities=0,
        attemptreopenmethod="untilpass", maxattempts=-1, markingworkflow=0, markingallocation=0,
        markinganonymous=0, preventsubmissionnotingroup=int(team), activity=NULL, activityformat=0, timelimit=0,
        submissionattachments=0))
    a.body.add(El("userflags"), El("submissions"), El("grades"))
    configs = El("plugin_configs")
    for plugin, subtype, name, value in (
            ("onlinetext", "assignsubmission", "enabled", "1"), ("onlinetext", "assignsubmission", "wordlimit", "0"),
            ("onlinetext", "assignsubmission", "wordlimitenabled", "0"), ("file", "assignsubmission", "enabled", "1"),
            ("file", "assignsubmission", "maxfilesubmissions", "5"),
            ("file", "assignsubmission", "maxsubmissionsizebytes", "0"),
            ("file", "assignsubmission", "filetypeslist", ""), ("comments", "assignsubmission", "enabled", "1"),
            ("comments", "assignfeedback", "enabled", "1"), ("comments", "assignfeedback", "commentinline", "0"),
            ("editpdf", "assignfeedback", "enabled", "0"), ("offline", "assignfeedback", "enabled", "0"),
            ("file", "assignfeedback", "enabled", "1")):
        configs.add(el("plugin_config", {"id": b.next("plugin_config")}, plugin=plugin, subtype=subtype,
                       name=name, value=value))
    a.body.add(configs, El("overrides"))
    a.files = files.area(b, a.contextid, "mod_assign", "intro", 0, [("/", f.name, f.content) for f in intro.files])
    a.grade_items = [grades.item(b, "project" if team else "assignments", task.title, "assign", a.instance,
                                 float(points), float(task.meta.pass_points or 0))]
    if b.certificate_needs_pass(task):
        a.completion = dict(completion=COMPLETION_AUTOMATIC, completiongradeitemnumber=0, completionpassgrade=1)
    else:
        a.completion = dict(completion=COMPLETION_AUTOMATIC)
    if team:
        a.groupmode, a.groupingid = 1, b.grouping_id
        a.groups = [gid for gid, _ in b.groups]
    if due:
        calendar.event(b, task.title, "", due, 0)
    if b.certificate_needs(task) or b.certificate_needs_pass(task):
        b.completion_cms.append(a)
    return a
