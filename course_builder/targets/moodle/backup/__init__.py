"""Target `moodle-backup`: the whole blended course as a Moodle 4.5 (or 5.x) course backup (.mbz, format moodle2).

The layout copies what Moodle 4.5.6's backup controller writes for a course without users (see
../shared/reference/moodle/ and backup/moodle2/backup_*_stepslib.php): moodle_backup.xml lists every
section and activity, each activity folder holds module.xml, <mod>.xml, inforef.xml, grades.xml and
the other per-activity files, and files.xml plus files/<sha1[:2]>/<sha1> carry the blobs.

The parts: plan.py plans the ids (class Backup); sections.py places the activities in the weeks;
one module per activity type (forum, label, page, quiz, scorm, assign) adds its activities;
activity.py writes an activity's folder; questions, files, grades, groups, completion, calendar and
course write the rest; versions.py holds everything that names a Moodle version (qbank.py adds the
question bank activity of a 5.x backup). replay.py keeps
each module's part (activities with their XML written, file records, events) in the build cache, so
after an edit only the edited module is planned again; the tar.gz reuses its unchanged compressed runs.

Options (BuildOptions.extra): `moodle-delivery` = scorm (default: each module a SCORM 1.2 activity)
or native (each lesson a Page, the quiz a Quiz); `participants` = expected participants (default 20),
which sets how many empty groups of the project's group size the grouping "Projektgruppen" gets;
`questions` = used (default: the questions the backup's Moodle quizzes ask, with the whole categories
their random slots draw from) or all (every question of the course, e.g. to reuse them in new quizzes);
`moodle` = 4.5 (default) or 5.0 (the questions in a mod_qbank activity, for Moodle 5.0 and 5.1).
"""

from __future__ import annotations

from pathlib import Path

from ....model import Course
from ....tarwriter import tar_gz_bytes
from ....units import Units
from ... import BuildOptions, OptionError, register
from ..backup_xml import El, document, el
from . import activity, completion, course as course_part, files, grades, groups, questions, sections
from .course import filename
from .plan import Backup
from .records import STUDENT_ROLE
from .versions import Profile, profile

__all__ = ["Backup", "MoodleBackupTarget", "entries", "filename"]

DELIVERIES = ("scorm", "native")
DEFAULT_PARTICIPANTS = 20
QUESTION_CHOICES = ("used", "all")


@register
class MoodleBackupTarget:
    name = "moodle-backup"
    description = ("the whole blended course as a Moodle 4.5 course backup (.mbz; -O moodle=5.0 for 5.x) "
                   "to restore as a new course")

    def check_options(self, options: BuildOptions) -> None:
        settings(options)

    def units(self, course: Course, options: BuildOptions) -> Units:
        delivery, participants, carried, version = settings(options)
        units = Units(course, self.name, options.cache)
        # The backup holds the whole course; the modules' SCORM packages inside it are cached on their own.
        units.add(filename(course, version), lambda: tar_gz_bytes(
            entries(Backup(course, delivery, participants, options.cache, carried, version)).items(),
            first=(".ARCHIVE_INDEX",), cache=options.cache),
            (delivery, participants, carried, version.name, course.spec, course.summary, course.glossary, course.modules,
             course.quizzes, course.tasks))
        return units

    def build(self, course: Course, out: Path, options: BuildOptions) -> None:
        self.units(course, options).write(out)


def settings(options: BuildOptions) -> tuple[str, int, str, Profile]:
    """(delivery, participants, questions, Moodle version) from the options; OptionError names what is wrong."""
    delivery = str(options.extra.get("moodle-delivery", "scorm"))
    if delivery not in DELIVERIES:
        raise OptionError(f"moodle-delivery must be one of {', '.join(DELIVERIES)}, not '{delivery}'")
    try:
        participants = int(options.extra.get("participants", DEFAULT_PARTICIPANTS))
    except ValueError:
        raise OptionError(f"participants must be a whole number, not '{options.extra['participants']}'") from None
    if participants < 0:
        raise OptionError("participants must not be negative")
    carried = str(options.extra.get("questions", "used"))
    if carried not in QUESTION_CHOICES:
        raise OptionError(f"questions must be one of {', '.join(QUESTION_CHOICES)}, not '{carried}' (used: the "
                          "questions the backup's quizzes ask or draw from; all: the course's whole bank)")
    return delivery, participants, carried, profile(options.extra)


_STUDENT_ROLE_XML = document(El("roles_definition").add(el(
    "role", {"id": STUDENT_ROLE}, name="", shortname="student", nameincourse=None, description="",
    sortorder=5, archetype="student")))
_EMPTY_ROOT_FILES = {
    "scales.xml": document(El("scales_definition")),
    "outcomes.xml": document(El("outcomes_definition")),
    "badges.xml": document(El("badges")),
}


def entries(b: Backup) -> dict[str, bytes]:
    """Every file of the backup. The order of the calls is the order ids are given out in (questions'
    answers and files, completion criteria, the gradebook's totals), so it stays as it is."""
    out: dict[str, bytes] = {}
    out["moodle_backup.xml"] = document(course_part.moodle_backup_xml(b))
    out["questions.xml"] = document(questions.questions_xml(b))  # before files.xml: it adds the questions' files
    out["files.xml"] = document(files.files_xml(b))
    out["groups.xml"] = document(groups.groups_xml(b))
    out["roles.xml"] = _STUDENT_ROLE_XML
    out.update(_EMPTY_ROOT_FILES)
    out["completion.xml"] = document(completion.completion_xml(b))
    out["gradebook.xml"] = document(grades.gradebook_xml(b))  # numbers the grade items the activities list
    out["grade_history.xml"] = document(El("grade_history").add(El("grade_grades")))
    out.update(course_part.course_files(b))
    out.update(sections.files(b))
    for a in b.activities:
        out.update(activity.files(b, a))
    out.update(files.blobs(b))
    out[".ARCHIVE_INDEX"] = course_part.archive_index(b, out)
    return out
