"""The files of one activity's folder: module.xml (where and how it sits on the course page), <mod>.xml (the
body its type's module made), inforef.xml, grades.xml and the files that say nothing about it."""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from operator import attrgetter

from ..backup_xml import NULL, El, document, el
from . import grades
from .plan import Backup
from .records import Activity, GradeItem

# The files every activity folder holds that say nothing about the activity (no overrides, filters, events).
_EMPTY_ACTIVITY_FILES = {
    "roles.xml": document(El("roles").add(El("role_overrides"), El("role_assignments"))),
    "filters.xml": document(El("filters").add(El("filter_actives"), El("filter_configs"))),
    "calendar.xml": document(El("events")),
    "competencies.xml": document(El("course_module_competencies").add(El("competencies"))),
    "grade_history.xml": document(El("grade_history").add(El("grade_grades"))),
}


def write_documents(b: Backup, a: Activity) -> None:
    """module.xml, <mod>.xml and inforef.xml, which nothing changes once the activity is planned (grades.xml
    waits for the gradebook to number the grade items)."""
    if a.documents is not None:
        return
    module = el("module", {"id": a.cmid, "version": b.version.module_version}, modulename=a.modname, sectionid=a.section.id,
                sectionnumber=a.section.number, idnumber="", added=b.now, score=0, indent=0, visible=1,
                visibleoncoursepage=1, visibleold=1, groupmode=a.groupmode, groupingid=a.groupingid,
                completion=a.completion.get("completion", 0),
                completiongradeitemnumber=a.completion.get("completiongradeitemnumber", NULL),
                completionpassgrade=a.completion.get("completionpassgrade", 0),
                completionview=a.completion.get("completionview", 0), completionexpected=0, availability=NULL,
                showdescription=0, downloadcontent=1, lang=NULL)
    module.add(El("tags"))
    activity = El("activity", {"id": a.instance, "moduleid": a.cmid, "modulename": a.modname,
                               "contextid": a.contextid}).add(a.body)
    inforef = El("inforef")
    if a.files:
        inforef.add(El("fileref").add(*(El("file").leaves(id=f.id) for f in a.files)))
    if a.groupingid:
        inforef.add(El("groupingref").add(El("grouping").leaves(id=a.groupingid)))
    if a.groups:
        inforef.add(El("groupref").add(*(El("group").leaves(id=g) for g in a.groups)))
    if a.grade_items:
        inforef.add(El("grade_itemref").add(*(El("grade_item").leaves(id=g.id) for g in a.grade_items)))
    if a.question_categories:
        inforef.add(El("question_categoryref").add(*(El("question_category").leaves(id=c)
                                                     for c in a.question_categories)))
    a.documents = {"module.xml": document(module), f"{a.modname}.xml": document(activity),
                   "inforef.xml": document(inforef)}


def files(b: Backup, a: Activity) -> dict[str, bytes]:
    write_documents(b, a)
    d = a.directory
    return {
        f"{d}/module.xml": a.documents["module.xml"],
        f"{d}/{a.modname}.xml": a.documents[f"{a.modname}.xml"],
        f"{d}/inforef.xml": a.documents["inforef.xml"],
        f"{d}/grades.xml": _grades_xml(b.now, tuple(map(_grade_item_fields, a.grade_items))),
        **{f"{d}/{name}": data for name, data in _EMPTY_ACTIVITY_FILES.items()},
    }


# A grade item's fields as a tuple (all plain values): dataclasses.astuple copies each deeply, which a
# backup of 1,000 activities would pay on every build.
_grade_item_fields = attrgetter(*(f.name for f in fields(GradeItem)))


@lru_cache(maxsize=8192)
def _grades_xml(now: int, items: tuple[tuple, ...]) -> bytes:
    """An activity's grades.xml from its grade items' fields: written again only when one changes (the
    numbering in the gradebook comes last, so this file is made on every build of the backup)."""
    return document(El("activity_gradebook").add(
        El("grade_items").add(*(grades.item_el(now, GradeItem(*fields)) for fields in items)), El("grade_letters")))
