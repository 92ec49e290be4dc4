"""Moodle imports: the question bank as Moodle XML (`moodle-xml`) and GIFT (`gift`), and the whole course
as a Moodle 4.5 course backup (`moodle-backup`). `bank.py` maps the model's questions once for all three."""
