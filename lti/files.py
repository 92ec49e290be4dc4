"""Routes of files: the player's runtime (learner.js, learner.css), the course's media and worksheets,
and the health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from course_builder import player
from course_builder.worksheets import DOCX_TYPE

from .tool import Tool


def routes(tool: Tool) -> list[Route]:
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

    return [
        Route("/lti/static/{name}", static_file),
        Route("/lti/files/{path:path}", course_file),
        Route("/healthz", health),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
    ]
