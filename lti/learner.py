"""Routes of the learner's module page and its saved state (the `http` runtime contract of learner.js).

GET /lti/play/{launch_id} serves the module page with the launch's state URL, attempt URL and CSRF
token filled in; GET/PUT /lti/state/{launch_id} read and write the learner's location and state, both
only with the launch's X-CSRF-Token; a write changes the progress row by lti/progress.py's monotone rule.
"""

from __future__ import annotations

import json
import math
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from course_builder import player

from . import attempts
from .launchstore import LaunchRecord
from .progress import progress_for, record as record_progress
from .roles import is_instructor
from .security import Rejected, csrf_ok, csrf_token
from .tool import ATTEMPT_PLACEHOLDER, CSRF_PLACEHOLDER, STATE_PLACEHOLDER, Tool, live, on_loop

MAX_STATE_BYTES = 1024 * 1024
COMPLETIONS = {"completed", "incomplete"}


def routes(tool: Tool) -> list[Route]:
    settings, course, rejected_page = tool.settings, tool.course, tool.rejected_page

    @rejected_page
    async def play(request: Request) -> Response:
        launch_id = request.path_params["launch_id"]

        record = on_loop(tool.launch_record, launch_id)
        if record.message_type != "LtiResourceLinkRequest":
            raise Rejected("This launch does not open a module.", 400, "not_a_module_launch")
        if record.task_id:
            return task_page(record)
        if course.module(record.module_id) is None:
            raise Rejected(f"The module {record.module_id!r} is no longer part of this course.", 404, "unknown_module",
                           module=record.module_id)
        page = tool.module_page(record.module_id)
        page = page.replace(STATE_PLACEHOLDER, f"/lti/state/{launch_id}").replace(
            ATTEMPT_PLACEHOLDER, f"/lti/attempt/{launch_id}").replace(CSRF_PLACEHOLDER, csrf_token(settings, launch_id))
        if is_instructor(record.roles):
            bar = (f'<p class="lti-teacher-bar"><a href="/lti/teacher/{launch_id}">'
                   f'{tool.ui["lti_teacher_view"]}</a></p>')
            at = page.find(">", page.find("<body")) + 1
            page = page[:at] + bar + page[at:]
        return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    def task_page(record: LaunchRecord) -> Response:
        from . import groups

        task = next(t for t in course.tasks if t.id == record.task_id)
        ctx = player.PlayerContext(static_prefix="/lti/static/", asset_href=lambda a: "/lti/files/" + quote(a.rel),
                                   module_href=lambda mid: None)
        body = player.text_html(course, task.body, task.path, task.assets, ctx)
        with tool.Session() as session:
            group = groups.group_of(session, record.platform_id, record.context_id, record.user_id)
        return tool.render("task.html.j2", task=task, body=body, group=group, title=task.title)

    @rejected_page
    async def state_api(request: Request) -> Response:
        launch_id = request.path_params["launch_id"]
        # Reads need the same proof as writes: the launch id alone (it shows in logs and the page's URL)
        # must not reveal a learner's location, state or quiz record.
        if not csrf_ok(settings, launch_id, request.headers.get("x-csrf-token")):
            return JSONResponse({"error": "bad or missing X-CSRF-Token"}, status_code=403)
        if request.method == "GET":
            return JSONResponse(on_loop(read_state, launch_id),
                                headers={"Cache-Control": "no-store"})
        body = await request.body()
        if len(body) > MAX_STATE_BYTES:
            return JSONResponse({"error": "state too large"}, status_code=413)
        try:
            data = json.loads(body)
            update = parse_state(data)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": f"invalid state: {exc}"}, status_code=422)
        queued = on_loop(write_state, launch_id, update)
        if queued and tool.worker:
            tool.worker.wake()
        return Response(status_code=204)

    def read_state(launch_id: str) -> dict:
        with tool.store.connection() as connection:  # every page load asks: plain SQL, as the launch
            record = live(tool.store.launch(connection, launch_id))
            location, state, checked, drawn = tool.store.saved_state(connection, record)
            answer = {"location": location, "state": state}
            quiz = course.quiz_for(record.module_id) if not record.task_id else None
            if quiz is not None:
                answer["quiz"] = attempts.quiz_summary(tool, record, tool.store.attempts(connection, record), checked)
            connection.commit()  # PostgreSQL: end the read transaction before the connection idles
        if quiz is not None and quiz.meta.draw:
            # The tool draws; the first load of an attempt stores its draw (the only write on this path).
            answer["quiz"]["drawn"] = drawn or attempts.drawn_for(tool, record.id)
        return answer

    def write_state(launch_id: str, update: dict) -> bool:
        """Store the learner's state; True if a score was queued for the gradebook."""
        with tool.Session() as session:
            record = tool.launch_for(session, launch_id)
            if record.message_type != "LtiResourceLinkRequest":
                raise Rejected("Only a resource link launch has learner state.", 400, "no_state")

            def apply() -> bool:
                # Score, success and results are the tool's own (lti/attempts.py): the page cannot set them.
                row = progress_for(session, record)
                return record_progress(session, record, row, update, "state", tool.column_for(record))

            queued = apply()
            try:
                session.commit()
            except Exception:
                session.rollback()  # a concurrent write of the same learner: apply again on fresh rows
                queued = apply()
                session.commit()
            return queued

    return [
        Route("/lti/play/{launch_id}", play),
        Route("/lti/state/{launch_id}", state_api, methods=["GET", "PUT"]),
    ]


def parse_state(data) -> dict:
    """The PUT body of the http runtime contract, checked field by field (unknown fields ignored)."""
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    out: dict = {}
    if "location" in data:
        if data["location"] is not None and not isinstance(data["location"], str):
            raise ValueError("location must be a string or null")
        out["location"] = data["location"][:200] if data["location"] else None
    if "state" in data:
        if data["state"] is not None and not isinstance(data["state"], str):
            raise ValueError("state must be a string or null")
        out["state"] = data["state"]
    if "progress" in data:
        value = data["progress"]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError("progress must be a number")
        out["progress"] = max(0.0, min(1.0, float(value)))
    if "completion" in data:
        if data["completion"] not in COMPLETIONS:
            raise ValueError("completion must be completed or incomplete")
        out["completion"] = data["completion"]
    # "score", "success" and "interactions", which pages before the tool graded sent, are ignored: the
    # tool grades the answers of each attempt itself (POST /lti/attempt/…).
    return out
