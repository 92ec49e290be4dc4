"""The tool's state shared by every route module: settings, database, course, caches, and the helpers
the routes have in common (rendering, the launch a URL names, error pages)."""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from course_builder import player
from course_builder.i18n import STRINGS, strings
from course_builder.model import Course
from course_builder.worksheets import worksheet_files

from . import ags, keys
from .config import Settings
from .db import Launch, make_engine, migrate, now, sessions, tool_secret
from .launchstore import LaunchRecord, LaunchStore
from .outbound import OutboundClient, OutboundPolicy
from .platforms import PlatformDirectory
from .roles import is_instructor
from .security import LTI, Rejected

log = logging.getLogger("lti.app")

LAUNCH_LIFETIME = 24 * 3600  # a module page may stay open for a day and still save
STATE_PLACEHOLDER, CSRF_PLACEHOLDER, ATTEMPT_PLACEHOLDER = "@@LTI_STATE_URL@@", "@@LTI_CSRF@@", "@@LTI_ATTEMPT_URL@@"


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

    def when(self, seconds: int | None) -> str:
        """A stored time as the course's language writes it, in UTC (the tool does not know the reader's zone)."""
        if seconds is None:
            return "–"
        moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
        return moment.strftime("%d.%m.%Y, %H:%M UTC" if self.lang == "de" else "%Y-%m-%d %H:%M UTC")

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

    def column_for(self, record: Launch) -> dict | None:
        """The grade column a module link gets when the platform gave it none."""
        module = self.course.module(record.module_id)
        return {"label": module.title, "resourceId": module.id, "tag": "module"} if module else None

    def rejected_page(self, func):
        """An endpoint that answers a Rejected with the tool's error page (status, code, translated text)."""
        async def endpoint(request: Request) -> Response:
            try:
                return await func(request)
            except Rejected as exc:
                return self.error(exc)
        return endpoint


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


