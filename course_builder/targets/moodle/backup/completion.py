"""Course completion: every activity the certificate rule needs (course.yaml `certificate:`), all of them."""

from __future__ import annotations

from ..backup_xml import NULL, El, el
from .plan import Backup
from .records import AGGREGATION_ALL, COURSE_ID, CRITERIA_ACTIVITY


def completion_xml(b: Backup) -> El:
    root = El("course_completion")
    for a in b.completion_cms:
        root.add(el("course_completion_criteria", {"id": b.next("completion_criteria")}, course=COURSE_ID,
                    criteriatype=CRITERIA_ACTIVITY, module=a.modname, moduleinstance=a.cmid,
                    courseinstanceshortname=NULL, enrolperiod=NULL, timeend=NULL, gradepass=NULL, role=NULL,
                    roleshortname=NULL).add(El("course_completion_crit_completions")))
    root.add(el("course_completion_aggr_methd", {"id": 1}, course=COURSE_ID, criteriatype=NULL,
                method=AGGREGATION_ALL, value=NULL))
    if b.completion_cms:
        root.add(el("course_completion_aggr_methd", {"id": 2}, course=COURSE_ID, criteriatype=CRITERIA_ACTIVITY,
                    method=AGGREGATION_ALL, value=NULL))
    return root
