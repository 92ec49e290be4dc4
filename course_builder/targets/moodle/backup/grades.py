"""The gradebook: a category each for quizzes (and SCORM packages), the project and assignments; every
graded activity's grade item sits in one, in course order."""

from __future__ import annotations

from ..backup_xml import El, el
from .plan import Backup
from .records import GradeItem


def item(b: Backup, category: str, name: str, modname: str, instance: int, grademax: float,
         gradepass: float = 0.0) -> GradeItem:
    return GradeItem(b.next("grade_item"), b.grade_categories[category], name, "mod", modname, instance, 0,
                     grademax, gradepass, sortorder=0)


def item_el(now: int, item: GradeItem, needsupdate: int = 0) -> El:
    return el("grade_item", {"id": item.id}, categoryid=item.categoryid, itemname=item.itemname,
              itemtype=item.itemtype, itemmodule=item.itemmodule, iteminstance=item.iteminstance,
              itemnumber=item.itemnumber, iteminfo=None, idnumber=item.idnumber, calculation=None, gradetype=1,
              grademax=f"{item.grademax:.5f}", grademin="0.00000", scaleid=None, outcomeid=None,
              gradepass=f"{item.gradepass:.5f}", multfactor="1.00000", plusfactor="0.00000",
              aggregationcoef="0.00000", aggregationcoef2="0.00000", weightoverride=0, sortorder=item.sortorder,
              display=0, decimals=None, hidden=0, locked=0, locktime=0, needsupdate=needsupdate,
              timecreated=now, timemodified=now).add(El("grade_grades"))


def gradebook_xml(b: Backup) -> El:
    """gradebook.xml; numbers the activities' grade items (sortorder) as it goes, so it is written first."""
    course_cat = b.grade_categories["course"]
    cats = El("grade_categories")
    names = {"course": "?", "quizzes": b.s["moodle_grades_quizzes"], "project": b.s["moodle_grades_project"],
             "assignments": b.s["moodle_grades_assignments"]}
    for key, cid in b.grade_categories.items():
        parent = None if key == "course" else course_cat
        path = f"/{cid}/" if parent is None else f"/{course_cat}/{cid}/"
        cats.add(el("grade_category", {"id": cid}, parent=parent, depth=1 if parent is None else 2, path=path,
                    fullname=names[key], aggregation=13, keephigh=0, droplow=0, aggregateonlygraded=1,
                    aggregateoutcomes=0, timecreated=b.now, timemodified=b.now, hidden=0))
    items = El("grade_items")
    sortorder = 1
    for key, cid in b.grade_categories.items():
        kind = "course" if key == "course" else "category"
        total = GradeItem(b.next("grade_item"), None, None, kind, None, cid, None, 100.0, sortorder=sortorder)
        total.idnumber = None
        items.add(item_el(b.now, total, needsupdate=1))
        sortorder += 1
        if key != "course":
            for a in b.activities:
                for gi in a.grade_items:
                    if gi.categoryid == cid:
                        gi.sortorder = sortorder
                        sortorder += 1
    return El("gradebook").add(El("attributes"), cats, items, El("grade_letters"),
                               El("grade_settings").add(el("grade_setting", {"id": ""}, name="minmaxtouse", value=1)))
