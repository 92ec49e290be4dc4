"""Deep Linking 2.0: the teacher picks modules (and the project task); we answer with ltiResourceLink items."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from course_builder.model import Course

from . import keys
from .config import Settings
from .db import Launch, Platform, now
from .security import DL, LTI, Rejected, csrf_ok, csrf_token


def choices(course: Course) -> list[dict]:
    """What a teacher can place: every module, then every task that belongs to no module (the project work)."""
    items = [{"key": f"module:{m.id}", "title": m.title} for m in course.modules]
    items += [{"key": f"task:{t.id}", "title": t.title} for t in course.tasks if t.module is None]
    return items


def content_item(settings: Settings, course: Course, key: str) -> dict | None:
    kind, _, ident = key.partition(":")
    if kind == "module" and course.module(ident) is not None:
        title, custom, resource_id, tag = course.module(ident).title, {"module": ident}, ident, "module"
    elif kind == "task" and any(t.id == ident and t.module is None for t in course.tasks):
        task = next(t for t in course.tasks if t.id == ident)
        title, custom, resource_id, tag = task.title, {"task": ident}, f"task-{ident}", task.kind
    else:
        return None
    return {
        "type": "ltiResourceLink",
        "title": title,
        "url": settings.url("/lti/launch"),
        "custom": custom,
        "lineItem": {"scoreMaximum": 100, "label": title, "resourceId": resource_id, "tag": tag},
    }


def response_jwt(session: Session, settings: Settings, course: Course, platform: Platform, launch: Launch,
                 chosen: list[str]) -> str:
    items = [item for item in (content_item(settings, course, key) for key in chosen) if item is not None]
    if launch.deep_linking.get("accept_multiple") is False:
        items = items[:1]
    issued = now()
    claims = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": issued,
        "exp": issued + 600,
        "nonce": uuid.uuid4().hex,
        LTI + "deployment_id": launch.deployment_id,
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        DL + "content_items": items,
    }
    if "data" in launch.deep_linking:
        claims[DL + "data"] = launch.deep_linking["data"]  # echoed unchanged
    return keys.sign(session, claims)


def routes(tool) -> list[Route]:
    settings, course, rejected_page = tool.settings, tool.course, tool.rejected_page

    @rejected_page
    async def deep_link(request: Request) -> Response:
        launch_id = request.path_params["launch_id"]
        if request.method == "GET":
            def show():
                with tool.Session() as session:
                    record = tool.instructor_launch(session, launch_id)
                    if record.message_type != "LtiDeepLinkingRequest":
                        raise Rejected("This launch is not a deep linking request.", 400, "not_deep_linking")
                return tool.render("deep_link.html.j2", launch_id=launch_id, csrf=csrf_token(settings, launch_id),
                                   items=choices(course),
                                   multiple=record.deep_linking.get("accept_multiple", True) is not False)
            return await run_in_threadpool(show)
        form = await request.form()
        if not csrf_ok(settings, launch_id, form.get("csrf")):
            raise Rejected("The form's CSRF token is wrong.", 403, "bad_csrf")
        chosen = [v for v in form.getlist("item") if isinstance(v, str)]

        def respond():
            with tool.Session() as session:
                record = tool.instructor_launch(session, launch_id)
                if record.message_type != "LtiDeepLinkingRequest":
                    raise Rejected("This launch is not a deep linking request.", 400, "not_deep_linking")
                platform = session.get(Platform, record.platform_id)
                token = response_jwt(session, settings, course, platform, record, chosen)
            return tool.render("autopost.html.j2", action=record.deep_linking["deep_link_return_url"],
                               fields={"JWT": token}, submit=tool.ui["lti_dl_send"])
        return await run_in_threadpool(respond)

    return [Route("/lti/deep-link/{launch_id}", deep_link, methods=["GET", "POST"])]
