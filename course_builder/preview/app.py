"""The preview's web app: the shell page, the modules as a SCORM 1.2 package serves them, events and attempts.

  /                          the shell: module list, the module in an iframe, debug panel, error overlay
  /events                    server-sent events: the status after every rebuild
  /api/status                the same status as JSON
  /api/attempts/<module>     GET / PUT (or POST) / DELETE the stand-in LMS's data of one module
  /sco/<module>/index.html   a module's page (as in its package)
  /sco/assets/<file>         learner.js and learner.css, minified as in the package
  /sco/files/<path>          the media the pages show (only those; nothing else of the folder is served)
  /preview/<file>            the shell's own script and style
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import player
from ..i18n import strings
from ..worksheets import DOCX_TYPE, docx_bytes
from .attempts import MAX_ATTEMPT_BYTES, AttemptStore, BadAttempt, validated
from .live import LivePreview
from .snapshot import runtime_file

SHELL_FILES = {"preview.js": "text/javascript", "scorm12-api.js": "text/javascript", "preview.css": "text/css"}
# Pages change under the designer's hands: the browser must ask again every time.
FRESH = {"Cache-Control": "no-store"}
# A quiet comment line now and then: a proxy or a sleeping laptop does not keep a dead stream open unnoticed.
HEARTBEAT_SECONDS = 15.0


def _env() -> Environment:
    return Environment(loader=PackageLoader("course_builder.preview", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def create_app(live: LivePreview, attempts: AttemptStore) -> Starlette:
    env = _env()
    static = resources.files("course_builder.preview") / "static"

    def attempt_key(module_id: str) -> str:
        snap = live.snapshot
        return f"{snap.course.id if snap else 'course'}/{module_id}"

    def shell_strings() -> tuple[str, dict]:
        snap = live.snapshot
        lang = snap.course.spec.language if snap and snap.course.spec else "de"
        return lang, {key[len("preview_"):]: text for key, text in strings(lang).items() if key.startswith("preview_")}

    def shell(request: Request) -> Response:
        snap = live.snapshot
        lang, ui = shell_strings()
        html = env.get_template("shell.html.j2").render(
            lang=lang, ui=ui, title=snap.course.title if snap else str(live.root.name),
            status=player.json_for_script(live.status()), ui_json=player.json_for_script(ui))
        return HTMLResponse(html, headers=FRESH)

    def shell_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in SHELL_FILES:
            return Response("not found", 404)
        return Response((static / name).read_bytes(), media_type=SHELL_FILES[name], headers=FRESH)

    def status(request: Request) -> Response:
        return JSONResponse(live.status(), headers=FRESH)

    async def events(request: Request) -> Response:
        queue = live.subscribe()

        async def stream():
            try:
                yield "retry: 1000\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                    except TimeoutError:
                        yield ": still here\n\n"
                        continue
                    if item is None:  # the preview is stopping
                        return
                    yield f"event: status\ndata: {json.dumps(item, ensure_ascii=False)}\n\n"
            finally:
                live.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={**FRESH, "X-Accel-Buffering": "no"})

    def module_page(request: Request) -> Response:
        snap = live.snapshot
        page = snap.page(request.path_params["module"]) if snap else None
        if page is None:
            lang, ui = shell_strings()
            return HTMLResponse(_missing_module(request.path_params["module"], lang, ui), 404, headers=FRESH)
        return HTMLResponse(page, headers=FRESH)

    def sco_asset(request: Request) -> Response:
        content = runtime_file(request.path_params["name"])
        if content is None:
            return Response("not found", 404)
        media = "text/css" if request.path_params["name"].endswith(".css") else "text/javascript"
        return Response(content, media_type=media, headers=FRESH)

    def sco_file(request: Request) -> Response:
        snap = live.snapshot
        rel = request.path_params["path"]
        path = snap.assets.get(rel) if snap else None
        sheet = snap.worksheet(rel) if snap and path is None else None
        if sheet is not None:  # built on request: a worksheet has no file of its own to serve
            return Response(docx_bytes(snap.course, *sheet), media_type=DOCX_TYPE, headers=FRESH)
        try:
            content = path.read_bytes() if path is not None else None
        except OSError:  # deleted since the last rebuild; the next one reports it
            content = None
        if content is None:
            return Response("not found", 404, headers=FRESH)
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(content, media_type=media, headers=FRESH)

    async def attempt(request: Request) -> Response:
        key = attempt_key(request.path_params["module"])
        if request.method == "GET":
            return JSONResponse(attempts.get(key), headers=FRESH)
        if request.method == "DELETE":
            try:
                rev = int(request.query_params.get("rev", "0"))
            except ValueError:
                return JSONResponse({"error": "rev must be a number"}, 400)
            attempts.reset(key, rev)
            return Response(status_code=204)
        # PUT from fetch, POST from a beacon (the last write as the page goes). A JSON content type cannot
        # be sent cross-site without a CORS preflight, which is never granted.
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "send application/json"}, 415)
        body = await request.body()
        if len(body) > MAX_ATTEMPT_BYTES:
            return JSONResponse({"error": "attempt too large"}, 413)
        try:
            rev, cmi = validated(json.loads(body))
        except (ValueError, BadAttempt) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        stored = attempts.put(key, rev, cmi)
        return Response(status_code=204 if stored else 409)

    routes = [
        Route("/", shell),
        Route("/preview/{name}", shell_file),
        Route("/events", events),
        Route("/api/status", status),
        Route("/api/attempts/{module}", attempt, methods=["GET", "PUT", "POST", "DELETE"]),
        Route("/sco/assets/{name}", sco_asset),
        Route("/sco/files/{path:path}", sco_file),
        Route("/sco/{module}/index.html", module_page),
    ]
    # Only what the designer's own browser asks for: a page elsewhere that rebinds a name to 127.0.0.1 is refused.
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])]
    return Starlette(routes=routes, middleware=middleware)


def _missing_module(module_id: str, lang: str, ui: dict) -> str:
    from markupsafe import escape

    message = escape(ui["missing_module"].format(id=module_id))
    return (f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8"><title>{escape(ui["label"])}</title>'
            f'</head><body><p>{message}</p></body></html>')
