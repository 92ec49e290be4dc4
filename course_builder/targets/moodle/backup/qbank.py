"""The question bank activity (`mod_qbank`) of a Moodle 5.x backup (`-O moodle=5.0`, see versions.py).

Its body is what mod/qbank/backup/moodle2/backup_qbank_stepslib.php writes (name, timecreated,
timemodified, intro, introformat, type); its module context owns every question category.
"""

from __future__ import annotations

from ..backup_xml import El
from .plan import Backup
from .records import COURSE_CONTEXT, Activity, Section
from .versions import CONTEXT_MODULE, QuestionsContext

QBANK_TYPE_STANDARD = "standard"  # core_question\local\bank\question_bank_helper::TYPE_STANDARD


def plan(b: Backup) -> QuestionsContext:
    """Reserves the bank's course module and context before any other activity is planned, so that the
    quizzes' random slots and the questions' files can name the bank's context when they are written."""
    b.qbank_cmid = b.next("cm")
    # Numbered as Backup.activity numbers every activity's context.
    return QuestionsContext(COURSE_CONTEXT + b.qbank_cmid, CONTEXT_MODULE, b.qbank_cmid)


def place(b: Backup, section: Section) -> None:
    """Adds the planned bank to `section` (section 0, as Moodle's own course banks are: mod_qbank cannot be
    displayed on the course page) and gives it every question category of the backup."""
    instance = b.next("instance_qbank")
    title = b.s["moodle_question_bank"].format(course=b.spec.title)
    body = El("qbank", {"id": instance}).leaves(name=title, timecreated=b.now, timemodified=b.now,
                                                intro="", introformat=1, type=QBANK_TYPE_STANDARD)
    activity = Activity("qbank", b.qbank_cmid, instance, b.questions_context.contextid, section, title, body)
    activity.question_categories = sorted(b.category_ids.values())
    section.activities.insert(0, activity)
    b.activities.insert(0, activity)
