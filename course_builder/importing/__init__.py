"""`course import`: the compiler run backwards — Moodle question files and course backups to authoring files.

One reader per source format (moodle_xml, gift, mbz) produces the neutral Moodle form the exporters
write from (targets/moodle/bank.py); to_model turns it into model questions; quiz_writer writes quiz
files in the authoring format, which the normal loader reads back. Nothing is dropped silently:
what cannot be imported is a diagnostic and is kept in unimported.xml beside the written files.
"""
