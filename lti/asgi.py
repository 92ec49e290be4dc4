"""The app as uvicorn's workers import it: everything from COURSE_LTI_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path


def app_from_env():
    from .app import create_app
    from .cli import load_course
    from .config import Settings

    settings = Settings.from_env(course_dir=Path(os.environ.get("COURSE_LTI_COURSE", ".")),
                                 run_worker=os.environ.get("COURSE_LTI_WORKER", "1") == "1")
    return create_app(settings, load_course(settings.course_dir))
