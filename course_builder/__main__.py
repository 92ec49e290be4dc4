"""`python -m course_builder` runs the `course` command."""

from .cli import main

main()
