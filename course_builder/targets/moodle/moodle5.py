"""The Moodle 5.x variant of the course backup (`-O moodle=5.0`): the question bank as a mod_qbank activity.

Moodle 5.0 moved question banks out of course contexts into `mod_qbank` activity instances. A 4.5 backup,
whose questions sit in course-context categories, still restores on 5.x, but the restore prechecks
(backup/util/dbops/restore_dbops.class.php, prechek_precheck_qbanks_by_level) find no course-level target,
move every category into a fallback bank and warn once per category ("qcategory2coursefallback").
The 5.x variant writes what Moodle 5.x's own backup of such a course holds instead: one qbank activity
(mod/qbank/backup/moodle2/backup_qbank_stepslib.php: name, timecreated, timemodified, intro, introformat,
type) whose module context owns the categories (contextlevel 70); the quizzes' random slots name that
context. Moodle 4.5 has no mod_qbank, so this variant is for 5.x sites only.

Everything that differs by Moodle version lives here; backup.py asks `profile(options.extra)` for the version
stamps and calls `plan_bank` / `place_bank` (two one-line hooks) when the profile has a qbank.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import OptionError

CONTEXT_COURSE, CONTEXT_MODULE = 50, 70
QBANK_TYPE_STANDARD = "standard"  # core_question\local\bank\question_bank_helper::TYPE_STANDARD


@dataclass(frozen=True)
class Profile:
    """What one Moodle version's backups carry in moodle_backup.xml and module.xml, and where questions live."""
    name: str
    file_tag: str  # names the Moodle version in the file name: <course>-moodle45-nousers.mbz
    moodle_version: str
    moodle_release: str
    backup_version: str
    backup_release: str
    module_version: str
    qbank_module: bool  # questions in a mod_qbank activity's context instead of the course context


PROFILES = {
    "4.5": Profile("4.5", "moodle45", "2024100706", "4.5.6 (Build: 20250811)", "2024100700", "4.5", "2024100700", False),
    # Stamped as Moodle 5.0.0 (version.php of MOODLE_500_STABLE at its release): a site older than the stamp
    # warns that the backup "is newer than your currently installed Moodle", so the stamp is the oldest 5.x.
    "5.0": Profile("5.0", "moodle50", "2025041400", "5.0 (Build: 20250414)", "2025041400", "5.0", "2025041400", True),
}
DEFAULT = "4.5"


def profile(extra: dict) -> Profile:
    """The profile `-O moodle=…` asks for (4.5 when not given); OptionError names the known ones."""
    wanted = str(extra.get("moodle", DEFAULT)).strip()
    aliases = {"4": "4.5", "4.5": "4.5", "5": "5.0", "5.0": "5.0", "5.1": "5.0"}
    if wanted not in aliases:
        raise OptionError(f"moodle must be one of 4.5, 5.0 (5.0 also serves 5.1), not '{wanted}'")
    return PROFILES[aliases[wanted]]


@dataclass
class QuestionsContext:
    """The context the backup's question categories (and their files) belong to."""
    contextid: int
    contextlevel: int
    instanceid: int


def plan_bank(backup) -> QuestionsContext:
    """Reserves the qbank activity's course module and context before any other activity is planned, so that
    the quizzes' random slots can name the bank's context when they are written."""
    from .backup import COURSE_CONTEXT

    cmid = backup.next("cm")
    backup.qbank_plan = cmid
    return QuestionsContext(COURSE_CONTEXT + cmid, CONTEXT_MODULE, cmid)  # as Backup._activity numbers contexts


def place_bank(backup, section) -> None:
    """Adds the planned qbank activity to `section` (section 0, as Moodle's own course banks are: mod_qbank
    cannot be displayed on the course page) and gives it every question category of the backup."""
    from .backup import Activity
    from .backup_xml import El

    cmid = backup.qbank_plan
    instance = backup.next("instance_qbank")
    title = backup.s["moodle_question_bank"].format(course=backup.spec.title)
    body = El("qbank", {"id": instance}).leaves(name=title, timecreated=backup.now, timemodified=backup.now,
                                                 intro="", introformat=1, type=QBANK_TYPE_STANDARD)
    activity = Activity("qbank", cmid, instance, backup.questions_context.contextid, section, title, body)
    activity.question_categories = sorted(backup.category_ids.values())
    section.activities.insert(0, activity)
    backup.activities.insert(0, activity)
