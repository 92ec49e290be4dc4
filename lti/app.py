"""The tool's web app (Starlette under uvicorn).

Starlette rather than a bigger framework: the tool needs routing, forms, cookies and a lifespan
hook for the outbox worker — nothing more; no request-model layer to bypass for JWT forms, and it is
a thin, fast ASGI layer (the launch path is measured in bench/bench_lti.py).

After a launch, the module page reaches its state through an unguessable launch id in the URL plus a
CSRF token, not a cookie: inside the LMS's iframe third-party cookies are often blocked.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import math
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from course_builder import player
from course_builder.i18n import STRINGS, strings
from course_builder.model import Course
from course_builder.worksheets import DOCX_TYPE, worksheet_files

from . import ags, attempts, keys
from .config import Settings
from .db import Launch, OutboxScore, Platform, Progress, make_engine, migrate, now, sessions, tool_secret
from .launchstore import LaunchRecord, LaunchStore
from .outbound import OutboundClient, OutboundError, OutboundPolicy
from .platforms import PlatformDirectory
from .roles import is_instructor
from .security import (DL, LTI, AGS_CLAIM, NRPS_CLAIM, Rejected, cookie_name, cookie_value, csrf_ok, csrf_token,
                       load_login, start_login, verify_id_token)

log = logging.getLogger("lti.app")

LAUNCH_LIFETIME = 24 * 3600  # a module page may stay open for a day and still save
MAX_STATE_BYTES = 1024 * 1024
STATE_PLACEHOLDER, CSRF_PLACEHOLDER, ATTEMPT_PLACEHOLDER = "@@LTI_STATE_URL@@", "@@LTI_CSRF@@", "@@LTI_ATTEMPT_URL@@"
COMPLETIONS = {"completed", "incomplete"}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=PackageLoader("lti", "templates"), autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


class Tool:
    """The app's state: settings, database, course and caches."""

    def __init__(self, settings: Settings, course: Course, *, start_worker: bool | None = None,
                 policy: ags.OutboxPolicy | None = None, refetch_interval: int = 5):
        self.settings, self.course = settings, course
        self.engine = make_engine(settings.db_url)
        migrate(self.engine)
        self.Session = sessions(self.engine)
        self.store = LaunchStore(self.engine)
        self.platforms = PlatformDirectory(self.store)
        # For work that waits on a platform while holding a session (grade delivery, roster sync): the
        # platform may call back for our JWKS meanwhile, which must not wait for the same connection.
        self.background = sessions(make_engine(settings.db_url, connections=4))
        with self.Session() as session:
            settings.secret = tool_secret(session)
            keys.ensure_keys(session)
        self.outbound = OutboundPolicy.from_settings(settings)
        self.http = OutboundClient(self.outbound)  # every request the tool sends goes through it
        self.refetch_interval = refetch_interval
        language = course.spec.language if course.spec else "de"
        self.ui = strings(language)
        # <html lang> names the language the pages are actually in: English for a language without strings.
        self.lang = language if language.split("-")[0].lower() in STRINGS else "en"
        self.pages: dict[str, str] = {}
        self.keys: dict[str, dict[str, dict]] = {}
        self.lineitems: dict[tuple, str] = {}  # (platform, resource link, container) → line item we found or made
        self.worker = None
        if settings.run_worker if start_worker is None else start_worker:
            # Its own engine: it holds a session while waiting for the platform.
            self.worker = ags.Worker(self.background, self.outbound, policy)

    # --- rendering ---------------------------------------------------------------------------

    def render(self, template: str, status: int = 200, **values) -> HTMLResponse:
        values.setdefault("lang", self.lang)
        values.setdefault("ui", self.ui)
        values.setdefault("title", self.course.title)
        values.setdefault("number", self.number)
        return HTMLResponse(_env().get_template(template).render(**values), status_code=status)

    def number(self, value: float) -> str:
        """A score as people in the course's language write it: 54,55 in German, no trailing zeros."""
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if self.lang == "de" else text

    def error(self, exc: Rejected) -> HTMLResponse:
        log.info("rejected (%s, %s): %s", exc.code, exc.status, exc.message)
        response = self.render("error.html.j2", status=exc.status, message=exc.text(self.ui), code=exc.code,
                               title=self.ui["lti_error"])
        response.headers["Cache-Control"] = "no-store"
        return response

    def player_context(self) -> player.PlayerContext:
        return player.PlayerContext(
            static_prefix="/lti/static/",
            asset_href=lambda a: "/lti/files/" + quote(a.rel),
            module_href=lambda mid: None,  # each module is its own placement in the LMS
            runtime={"lms": "http", "stateUrl": STATE_PLACEHOLDER, "csrf": CSRF_PLACEHOLDER,
                     "attemptUrl": ATTEMPT_PLACEHOLDER},
            scoring="server",  # the page gets no key: the tool grades (lti/attempts.py)
        )

    def module_page(self, module_id: str) -> str:
        """The module's player page with placeholders for the per-launch URLs and CSRF token."""
        page = self.pages.get(module_id)
        if page is None:
            module = self.course.module(module_id)
            page = self.pages[module_id] = player.render_module(self.course, module, self.player_context())
        return page

    def quiz_keys(self, module_id: str) -> dict[str, dict]:
        """Question id → question data with its key and feedback, for grading the module's quiz."""
        keys = self.keys.get(module_id)
        if keys is None:
            keys = self.keys[module_id] = player.quiz_keys(self.course, self.course.quiz_for(module_id),
                                                          self.player_context())
        return keys

    def asset_files(self) -> dict[str, Path | bytes]:
        """Media by their path in the course; built worksheets by their bytes (they have no source file)."""
        if not hasattr(self, "_assets"):
            files: dict[str, Path | bytes] = {}
            for module in self.course.modules:
                for asset in player.module_assets(self.course, module):
                    files[asset.rel] = asset.path
                files.update(worksheet_files(self.course, module))
            for task in self.course.tasks:
                for asset in task.assets:
                    if asset.path is not None and asset.path.is_file():
                        files[asset.rel] = asset.path
            self._assets = files
        return self._assets

    # --- launch helpers ------------------------------------------------------------------------

    def launch_for(self, session: Session, launch_id: str) -> Launch:
        return live(session.get(Launch, launch_id))

    def launch_record(self, launch_id: str) -> LaunchRecord:
        """The launch as the module page needs it: read without the ORM (it is on every launch's path)."""
        with self.store.connection() as connection:
            return live(self.store.launch(connection, launch_id))

    def instructor_launch(self, session: Session, launch_id: str) -> Launch:
        launch = self.launch_for(session, launch_id)
        if not is_instructor(launch.roles):
            raise Rejected("This page is for teachers of the course.", 403, "not_instructor")
        return launch

    def target_of(self, claims: dict) -> tuple[str, str]:
        """(module id, task id) the launch asks for: custom parameters first, then the target URL's query."""
        custom = claims.get(LTI + "custom") or {}
        if not isinstance(custom, dict):
            custom = {}
        query = dict(parse_qsl(urlsplit(claims.get(LTI + "target_link_uri", "")).query))
        module_id = str(custom.get("module") or query.get("module") or "")
        task_id = str(custom.get("task") or query.get("task") or "")
        return module_id, task_id


def live(launch):
    if launch is None or launch.created_at + LAUNCH_LIFETIME < now():
        raise Rejected("This page's launch is unknown or has expired; please open the activity again.", 403,
                       "unknown_launch")
    return launch


def on_loop(func, *args):
    """Run short database work on the event loop itself. Handing it to the thread pool costs more
    than the work (a launch's queries take well under a millisecond on SQLite; the pool allows one
    SQLite connection per process anyway). Only a platform key set missing from the cache makes a
    launch wait on the network: at most the HTTP timeout, at most once per refetch interval."""
    return func(*args)


def create_app(settings: Settings, course: Course, **tool_options) -> Starlette:
    tool = Tool(settings, course, **tool_options)

    def rejected_page(func):
        async def endpoint(request: Request) -> Response:
            try:
                return await func(request)
            except Rejected as exc:
                return tool.error(exc)
        return endpoint

    # --- keys and configuration -------------------------------------------------------------

    jwks_cache: dict = {}

    async def jwks(request: Request) -> Response:
        def read():
            # Cached briefly: platforms fetch it for every token request; a rotation shows within seconds.
            if jwks_cache.get("until", 0) < now():
                with tool.Session() as session:
                    jwks_cache.update(value=keys.public_jwks(session), until=now() + 5)
            return jwks_cache["value"]
        return JSONResponse(on_loop(read), headers={"Cache-Control": "public, max-age=300"})

    # --- login and launch --------------------------------------------------------------------

    @rejected_page
    async def login(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})

        def run():
            with tool.store.connection() as connection:
                return start_login(connection, tool.platforms, settings, params)
        url, state = on_loop(run)
        response = RedirectResponse(url, status_code=302)
        set_state_cookie(response, state)
        return response

    def set_state_cookie(response: Response, state: str) -> None:
        # Written by hand: http.cookies knows `Partitioned` only from Python 3.14 on.
        cookie = f"{cookie_name(state)}={cookie_value(settings, state)}; Max-Age={settings.login_ttl}; Path=/lti/; HttpOnly"
        if settings.https:
            cookie += "; Secure; SameSite=None; Partitioned"
        else:  # loopback http for development: browsers drop SameSite=None cookies without Secure
            cookie += "; SameSite=Lax"
        response.headers.append("set-cookie", cookie)

    @rejected_page
    async def launch(request: Request) -> Response:
        if request.method != "POST":
            if "id_token" in request.query_params:
                raise Rejected("The id_token must be sent by POST (form_post), never in the URL.", 405,
                               "id_token_by_get")
            raise Rejected("The launch URL takes a POST from the platform.", 405, "method_not_allowed")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_token_bytes * 2:
            raise Rejected(f"The launch request is larger than {settings.max_token_bytes * 2} bytes.", 413,
                           "oversized_request", limit=settings.max_token_bytes * 2)
        form = await request.form(max_fields=20, max_part_size=settings.max_token_bytes * 2)
        id_token, state = form.get("id_token"), form.get("state")
        if isinstance(form.get("error"), str):
            reported = f"{form.get('error')} {form.get('error_description') or ''}".strip()
            raise Rejected(f"The platform reported: {reported}", 400, "platform_error", error=reported)
        cookies = dict(request.cookies)
        result = on_loop(do_launch, id_token if isinstance(id_token, str) else None,
                                         state if isinstance(state, str) else None, cookies)
        if isinstance(result, Response):
            return result
        launch_id = result.rsplit("/", 1)[1]
        if launch_id in without_lineitem:  # off the event loop: it may wait on the platform
            without_lineitem.discard(launch_id)
            await run_in_threadpool(attach_lineitem, launch_id)
        response = RedirectResponse(result, status_code=303)
        expired = f"{cookie_name(state)}=; Max-Age=0; Path=/lti/; HttpOnly"
        response.headers.append("set-cookie", expired + ("; Secure; SameSite=None; Partitioned" if settings.https
                                                         else "; SameSite=Lax"))
        return response

    without_lineitem: set[str] = set()  # launches of quiz links that came without a line item

    def attach_lineitem(launch_id: str) -> None:
        """A quiz link without a line item (Moodle: imported from a Common Cartridge) gets one, once per link."""
        with tool.background() as session:
            record = session.get(Launch, launch_id)
            if record is None or not ags.needs_lineitem(record):
                return
            key = (record.platform_id, record.resource_link_id, record.ags.get("lineitems"))
            url = tool.lineitems.get(key)
            if url:
                record.ags = {**record.ags, "lineitem": url}
                session.commit()
            else:
                # Made ahead, so teachers see the column before any score; if the platform is unreachable
                # now, a score's outbox row makes it later (ags.enqueue with column).
                try:
                    url = ags.ensure_lineitem(session, record, tool.http, column_for(record))
                except (ags.ServiceError, OutboundError) as exc:
                    log.warning("no line item for resource link %s yet: %s", record.resource_link_id, exc)
                    return
                tool.lineitems[key] = url

    def do_launch(id_token: str | None, state: str | None, cookies: dict) -> str | Response:
        with tool.store.connection() as connection:
            login_state = load_login(connection, tool.platforms, state)
            cookie = cookies.get(cookie_name(state))
            if cookie is None:
                # Third-party cookies blocked in the iframe: offer the same login in a top-level window.
                login_url = settings.url("/lti/login") + "?" + urlencode(login_state.login_params)
                return tool.render("new_window.html.j2", status=401, login_url=login_url,
                                   title=tool.ui["lti_open_window"])
            if not hmac.compare_digest(cookie, cookie_value(settings, state)):
                raise Rejected("The login state does not belong to this browser.", 401, "forged_state")
            if not id_token:
                raise Rejected("The launch has no id_token.", 400, "missing_id_token")
            claims = verify_id_token(connection, tool.platforms, settings, tool.http, id_token, login_state,
                                     tool.refetch_interval)
            message_type = claims[LTI + "message_type"]
            if message_type == "LtiDeepLinkingRequest" and not is_instructor(claims[LTI + "roles"]):
                # Placing content is for the course's teachers; refused before anything is stored or signed.
                raise Rejected("Deep linking (placing content) is for teachers of the course.", 403, "not_instructor")
            module_id, task_id = tool.target_of(claims)
            if message_type == "LtiResourceLinkRequest":
                if module_id and course.module(module_id) is None:
                    raise Rejected(f"The module {module_id!r} is not part of this course.", 404, "unknown_module",
                                   module=module_id)
                if task_id and not any(t.id == task_id for t in course.tasks):
                    raise Rejected(f"The task {task_id!r} is not part of this course.", 404, "unknown_task",
                                   task=task_id)
                if not module_id and not task_id:
                    raise Rejected("The link names no module (custom parameter module=…).", 400, "no_module")
            def claim_dict(name: str) -> dict:
                value = claims.get(name)
                return value if isinstance(value, dict) else {}

            context, nrps = claim_dict(LTI + "context"), claim_dict(NRPS_CLAIM)
            launch_id = secrets.token_urlsafe(24)
            values = dict(
                id=launch_id, platform_id=login_state.platform_id,
                deployment_id=claims[LTI + "deployment_id"], message_type=message_type, user_id=claims["sub"],
                name=str(claims.get("name") or "")[:300], email=str(claims.get("email") or "")[:300],
                roles=claims[LTI + "roles"], context_id=str(context.get("id") or ""),
                context_title=str(context.get("title") or "")[:500], context_label=str(context.get("label") or "")[:255],
                resource_link_id=str(claim_dict(LTI + "resource_link").get("id") or ""),
                module_id=module_id, task_id=task_id, ags=claim_dict(AGS_CLAIM),
                nrps_url=str(nrps.get("context_memberships_url") or ""),
                deep_linking=claim_dict(DL + "deep_linking_settings"), created_at=now())
            # The state and nonce are used up in the same transaction that stores the launch.
            if not tool.store.use_login(connection, login_state.state, claims["nonce"]):
                connection.rollback()
                raise Rejected("This login was already used: the launch is a replay.", 401, "replayed_nonce")
            tool.store.add_launch(connection, values)
            connection.commit()
            if (message_type == "LtiResourceLinkRequest" and module_id and course.quiz_for(module_id) is not None
                    and ags.lineitem_missing(values["ags"], values["resource_link_id"])):
                without_lineitem.add(launch_id)
            if message_type == "LtiDeepLinkingRequest":
                return f"/lti/deep-link/{launch_id}"
            return f"/lti/play/{launch_id}"

    # --- the learner's module page and its state ---------------------------------------------------

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
        if request.method == "GET":
            return JSONResponse(on_loop(read_state, launch_id),
                                headers={"Cache-Control": "no-store"})
        if not csrf_ok(settings, launch_id, request.headers.get("x-csrf-token")):
            return JSONResponse({"error": "bad or missing X-CSRF-Token"}, status_code=403)
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

            def apply() -> tuple[bool, Progress]:
                # Score, success and results are the tool's own (lti/attempts.py): the page cannot set them.
                row = attempts.progress_for(session, record)
                before = row.completion
                for key in ("location", "state", "progress", "completion"):
                    if key in update:
                        setattr(row, key, update[key])
                row.updated_at = now()
                graded = row.score is not None and row.completion != before
                return graded, row

            def queue(graded: bool, row: Progress) -> bool:
                return graded and ags.enqueue(session, record, row.score, row.completion == "completed",
                                              column=column_for(record)) is not None

            queued = queue(*apply())
            try:
                session.commit()
            except Exception:
                session.rollback()  # a concurrent write of the same learner: apply again on fresh rows
                queued = queue(*apply())
                session.commit()
            return queued

    def column_for(record: Launch) -> dict | None:
        """The grade column a module link gets when the platform gave it none."""
        module = course.module(record.module_id)
        return {"label": module.title, "resourceId": module.id, "tag": "module"} if module else None

    # --- teachers ---------------------------------------------------------------------------------

    @rejected_page
    async def teacher(request: Request) -> Response:
        launch_id = request.path_params["launch_id"]
        return await run_in_threadpool(teacher_page, launch_id)

    def teacher_page(launch_id: str) -> Response:
        with tool.Session() as session:
            record = tool.instructor_launch(session, launch_id)
            rows = session.scalars(select(Progress).where(Progress.platform_id == record.platform_id,
                                                          Progress.resource_link_id == record.resource_link_id)
                                   .order_by(Progress.user_id)).all()
            names, teachers = {}, set()
            for launch_row in session.scalars(select(Launch).where(
                    Launch.platform_id == record.platform_id, Launch.context_id == record.context_id)):
                if launch_row.name:
                    names[launch_row.user_id] = launch_row.name
                if is_instructor(launch_row.roles):
                    teachers.add(launch_row.user_id)
            # Teachers who open the module to try it leave progress too; they are not learners.
            rows = [row for row in rows if row.user_id not in teachers]
            lineitem = record.ags.get("lineitem")
            deliveries = {}
            if lineitem:
                for out in session.scalars(select(OutboxScore).where(OutboxScore.platform_id == record.platform_id,
                                                                     OutboxScore.lineitem_url == lineitem)
                                           .order_by(OutboxScore.timestamp)):
                    deliveries[out.user_id] = {"status": out.status,
                                               "error": out.last_error if out.status == "failed" else ""}
        quiz = course.quiz_for(record.module_id)
        questions = [q.id for q in quiz.questions] if quiz else []
        per_question = {q: {"correct": 0, "answered": 0} for q in questions}
        view_rows = []
        for row in rows:
            results = {}
            for interaction in row.interactions or []:
                if isinstance(interaction, dict) and interaction.get("id") is not None:
                    results[str(interaction["id"])] = str(interaction.get("result") or "neutral")
            for q, result in results.items():
                if q in per_question:
                    per_question[q]["answered"] += 1
                    per_question[q]["correct"] += result == "correct"
            view_rows.append({"user_id": row.user_id, "name": names.get(row.user_id, ""), "progress": row.progress,
                              "completion": row.completion, "success": row.success, "score": row.score,
                              "results": results, "delivery": deliveries.get(row.user_id)})
        module = course.module(record.module_id)
        names = {q.id: q.name for q in quiz.questions} if quiz else {}
        return tool.render("teacher.html.j2", rows=view_rows, questions=questions, per_question=per_question,
                           question_names=names,
                           module_title=module.title if module else record.module_id,
                           context_title=record.context_title, launch_id=launch_id)

    # --- deep linking ------------------------------------------------------------------------------

    @rejected_page
    async def deep_link(request: Request) -> Response:
        from . import deeplinking

        launch_id = request.path_params["launch_id"]
        if request.method == "GET":
            def show():
                with tool.Session() as session:
                    record = tool.instructor_launch(session, launch_id)
                    if record.message_type != "LtiDeepLinkingRequest":
                        raise Rejected("This launch is not a deep linking request.", 400, "not_deep_linking")
                return tool.render("deep_link.html.j2", launch_id=launch_id, csrf=csrf_token(settings, launch_id),
                                   items=deeplinking.choices(course),
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
                token = deeplinking.response_jwt(session, settings, course, platform, record, chosen)
            return tool.render("autopost.html.j2", action=record.deep_linking["deep_link_return_url"],
                               fields={"JWT": token}, submit=tool.ui["lti_dl_send"])
        return await run_in_threadpool(respond)

    # --- files --------------------------------------------------------------------------------

    static = player.static_files()

    async def static_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in static:
            return Response(status_code=404)
        media = "text/css" if name.endswith(".css") else "text/javascript"
        return Response(static[name], media_type=media, headers={"Cache-Control": "public, max-age=3600"})

    async def course_file(request: Request) -> Response:
        path = tool.asset_files().get(request.path_params["path"])
        if path is None:
            return Response(status_code=404)
        headers = {"Cache-Control": "public, max-age=3600"}
        if isinstance(path, bytes):
            return Response(path, media_type=DOCX_TYPE, headers=headers)
        return FileResponse(path, headers=headers)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

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

    from . import groups as group_views, registration

    routes = [
        Route("/.well-known/jwks.json", jwks),
        Route("/lti/jwks", jwks),
        Route("/lti/login", login, methods=["GET", "POST"]),
        Route("/lti/launch", launch, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/lti/play/{launch_id}", play),
        Route("/lti/state/{launch_id}", state_api, methods=["GET", "PUT"]),
        Route("/lti/teacher/{launch_id}", teacher),
        Route("/lti/deep-link/{launch_id}", deep_link, methods=["GET", "POST"]),
        Route("/lti/static/{name}", static_file),
        Route("/lti/files/{path:path}", course_file),
        Route("/healthz", health),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        *group_views.routes(tool, rejected_page),
        *registration.routes(tool, rejected_page),
        *attempts.routes(tool, rejected_page, column_for),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.tool = tool
    return app


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
