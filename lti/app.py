"""The tool's web app (Starlette under uvicorn): the route modules put together.

Starlette rather than a bigger framework: the tool needs routing, forms, cookies and a lifespan
hook for the outbox worker — nothing more; no request-model layer to bypass for JWT forms, and it is
a thin, fast ASGI layer (the launch path is measured in bench/bench_lti.py).

After a launch, the module page reaches its state through an unguessable launch id in the URL plus a
CSRF token, not a cookie: inside the LMS's iframe third-party cookies are often blocked.

Routes by concern: launching.py (key set, login, launch), learner.py (module page, saved state),
attempts.py (graded quiz attempts), teacher.py (overview), groups.py (project groups), deeplinking.py
(placing content), registration.py (dynamic registration), files.py (runtime, media, health).
"""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette

from course_builder.model import Course

from . import attempts, deeplinking, files, groups, launching, learner, registration, teacher
from .config import Settings
from .tool import Tool


def create_app(settings: Settings, course: Course, **tool_options) -> Starlette:
    tool = Tool(settings, course, **tool_options)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if tool.worker:
            tool.worker.start()
        try:
            yield
        finally:
            if tool.worker:
                tool.worker.stop()
            tool.http.close()

    routes = [
        *launching.routes(tool),
        *learner.routes(tool),
        *teacher.routes(tool),
        *deeplinking.routes(tool),
        *files.routes(tool),
        *groups.routes(tool, tool.rejected_page),
        *registration.routes(tool, tool.rejected_page),
        *attempts.routes(tool, tool.rejected_page, tool.column_for),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.tool = tool
    return app
