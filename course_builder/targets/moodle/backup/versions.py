"""Everything in the backup that names a Moodle version, in one place (a 5.x variant changes only this).

The header fields of moodle_backup.xml, the version every activity's module.xml carries, and the
context the course's question bank lives in (Moodle 4.5: the course context, level 50; Moodle 5.0
moved banks into mod_qbank module instances).
"""

MOODLE_VERSION = "2024100706"
MOODLE_RELEASE = "4.5.6 (Build: 20250811)"
BACKUP_VERSION = "2024100700"
BACKUP_RELEASE = "4.5"
MODULE_VERSION = "2024100700"  # forum, label, page, quiz, scorm and assign in 4.5.6
FILE_SUFFIX = "moodle45"  # in the file name: <course>-moodle45-nousers.mbz
# The question bank: categories in the course context (contextlevel 50 = CONTEXT_COURSE).
QUESTION_CONTEXT_LEVEL = 50
