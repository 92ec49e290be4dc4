"""Everything in the backup that names a Moodle version, in one place: one `Profile` per version.

A profile holds the header fields of moodle_backup.xml, the version every activity's module.xml
carries, the file name's tag, and where the question bank lives. Moodle 4.5 keeps it in the course
context (level 50). Moodle 5.0 moved banks into `mod_qbank` activity instances: a 4.5 backup, whose
questions sit in course-context categories, still restores on 5.x, but the restore prechecks
(backup/util/dbops/restore_dbops.class.php, prechek_precheck_qbanks_by_level) find no course-level
target, move every category into a fallback bank and warn once per category
("qcategory2coursefallback"). The 5.0 profile therefore writes what Moodle 5.x's own backup of such
a course holds: one qbank activity (qbank.py) whose module context owns the categories (level 70);
the quizzes' random slots name that context. Moodle 4.5 has no mod_qbank, so 5.0 backups are for
5.x sites only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import OptionError

CONTEXT_COURSE, CONTEXT_MODULE = 50, 70


@dataclass(frozen=True)
class Profile:
    """What one Moodle version's backups carry in moodle_backup.xml and module.xml, and where questions live."""
    name: str
    file_tag: str  # names the Moodle version in the file name: <course>-moodle45-nousers.mbz
    moodle_version: str
    moodle_release: str
    backup_version: str
    backup_release: str
    module_version: str  # forum, label, page, quiz, scorm and assign (and qbank on 5.x)
    qbank_module: bool  # questions in a mod_qbank activity's context instead of the course context


PROFILES = {
    "4.5": Profile("4.5", "moodle45", "2024100706", "4.5.6 (Build: 20250811)", "2024100700", "4.5", "2024100700", False),
    # Stamped as Moodle 5.0.0 (version.php of MOODLE_500_STABLE at its release): a site older than the stamp
    # warns that the backup "is newer than your currently installed Moodle", so the stamp is the oldest 5.x.
    "5.0": Profile("5.0", "moodle50", "2025041400", "5.0 (Build: 20250414)", "2025041400", "5.0", "2025041400", True),
}
DEFAULT = PROFILES["4.5"]
_ALIASES = {"4": "4.5", "4.5": "4.5", "5": "5.0", "5.0": "5.0", "5.1": "5.0"}


def profile(extra: dict) -> Profile:
    """The profile `-O moodle=…` asks for (4.5 when not given); OptionError names the known ones."""
    wanted = str(extra.get("moodle", DEFAULT.name)).strip()
    if wanted not in _ALIASES:
        raise OptionError(f"moodle must be one of 4.5, 5.0 (5.0 also serves 5.1), not '{wanted}'")
    return PROFILES[_ALIASES[wanted]]


@dataclass(frozen=True)
class QuestionsContext:
    """The context the backup's question categories (and their files) belong to."""
    contextid: int
    contextlevel: int
    instanceid: int
