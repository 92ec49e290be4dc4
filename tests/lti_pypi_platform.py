"""A platform built from the PyPI package `lti1p3platform` (not written by us), served over HTTP.

The package supplies the OIDC login request, the signed launch message, the deep linking claim and
the validation of the tool's deep linking response, the OAuth2 token endpoint (checking the tool's
client assertion against the tool's JWKS) and the AGS score / NRPS membership services. We only
supply storage and the HTTP glue, as any platform using the package does.
"""

from __future__ import annotations

import json
import threading
import uuid
from urllib.parse import parse_qsl, urlsplit

from joserfc.jwk import RSAKey
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as LtiRequest
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lti_platform import Server


class _Request(LtiRequest):
    def build_metadata(self, request: dict):
        return request


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs):
        self._reg = kwargs["registration"]

    def get_registration_by_params(self, **kwargs):
        return self._reg


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def get_preflight_response(self):
        return self._request.get_data

    def render_launch_form(self, launch_data, **kwargs):
        return launch_data


class PypiPlatform:
    def __init__(self, tool_url: str, tool_jwks_url: str, client_id: str = "pypi-client", deployment_id: str = "d1"):
        key = RSAKey.generate_key(2048, private=True)
        self.issuer_path = "/platform"
        self.client_id, self.deployment_id = client_id, deployment_id
        self.tool_url = tool_url
        self.private_pem = key.as_pem(private=True).decode()
        self.public_pem = key.as_pem(private=False).decode()
        self.tool_jwks_url = tool_jwks_url
        self.launches: dict[str, dict] = {}  # message hint → what to launch
        self.scores: list[dict] = []
        self.dl_items: list[list] = []
        self.members = [{"user_id": "u1", "roles": ["Learner"], "name": "Ada"},
                        {"user_id": "u2", "roles": ["Learner"], "name": "Bo"}]
        self.lock = threading.Lock()
        self.server = Server(self.app())
        self.url = self.server.url

    def registration(self) -> Registration:
        reg = Registration()
        reg.set_iss(self.url).set_client_id(self.client_id).set_deployment_id(self.deployment_id)
        reg.set_oidc_login_url(self.tool_url + "/lti/login").set_launch_url(self.tool_url + "/lti/launch")
        reg.set_deeplink_launch_url(self.tool_url + "/lti/launch")
        reg.set_platform_public_key(self.public_pem).set_platform_private_key(self.private_pem)
        reg.set_tool_key_set_url(self.tool_jwks_url)
        return reg

    def conf(self) -> _Conf:
        conf = _Conf(registration=self.registration())
        conf.get_registration()
        return conf

    @property
    def lineitem_url(self) -> str:
        return self.url + "/ags/lineitems/7"

    def login_url(self, user_id: str, *, module: str | None = None, deep_linking: bool = False,
                  roles: list[str] | None = None) -> str:
        hint = uuid.uuid4().hex
        self.launches[hint] = {"user": user_id, "module": module, "dl": deep_linking,
                               "roles": roles or ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]}
        login = _Login(None, self.conf())
        login.set_lti_message_hint(hint=hint)
        return login.prepare_preflight_url(user_id)

    def stop(self) -> None:
        self.server.stop()

    def app(self) -> Starlette:
        platform = self

        async def jwks(request: Request) -> Response:
            return JSONResponse({"keys": platform.registration().get_jwks()})

        async def auth(request: Request) -> Response:
            query = dict(request.query_params)
            spec = platform.launches[query["lti_message_hint"]]
            launch = _Launch(_Request({"get_data": query, "form_data": {}}), platform.conf())
            launch.set_user_data(spec["user"], spec["roles"], full_name=f"User {spec['user']}")
            launch.set_launch_context_claim("course-1", context_title="Kurs")
            if spec["dl"]:
                launch.set_dl(platform.url + "/dl-return", title="Module", accept_types={"ltiResourceLink"},
                              extra_data={"opaque": "keep-me"})
            else:
                launch.set_resource_link_claim("link-" + spec["module"], title=spec["module"])
                launch.set_custom_parameters_claim({"module": spec["module"]})
                launch.set_ags(lineitems_url=platform.url + "/ags/lineitems", lineitem_url=platform.lineitem_url)
                launch.set_nrps(platform.url + "/nrps/memberships")
            data = launch.lti_launch()
            return JSONResponse(data)

        async def token(request: Request) -> Response:
            form = dict(await request.form())
            try:
                return JSONResponse(platform.conf().get_access_token(form))
            except Exception as exc:  # noqa: BLE001 - the package raises plain exceptions for bad clients
                return JSONResponse({"error": "invalid_client", "detail": str(exc)}, status_code=401)

        async def dl_return(request: Request) -> Response:
            form = dict(await request.form())
            items = platform.conf().validate_deeplinking_resp({"JWT": form["JWT"]})
            platform.dl_items.append(items)
            return Response("ok")

        class Grades(AssignmentsGradesService):
            def update_score(self, line_item_id, score):
                with platform.lock:
                    platform.scores.append(dict(score, line_item=line_item_id))
                return UpdateScoreStatus.SUCCESS

            def find_lineitems(self, **kwargs):
                return {"content": [], "has_next": False}

            def find_lineitem(self, line_item_id):
                return {"id": line_item_id}

            def create_lineitem(self, data):
                return data

            def update_lineitem(self, data):
                return data

            def delete_lineitem(self, line_item_id):
                return None

            def get_results(self, line_item_id, **kwargs):
                return {"content": [], "has_next": False}

        class Roster(NamesRoleProvisioningService):
            def get_member_data_page(self, page=1, limit=None, role=None, since=None, **kwargs):
                return {"content": [dict(m) for m in platform.members], "has_next": False}

            def get_context_by_id(self):
                return Context(id="course-1", label="K", title="Kurs")

        def lti_request(request: Request, body: bytes) -> _Request:
            return _Request({"method": request.method, "headers": request.headers,
                             "get_data": dict(parse_qsl(urlsplit(str(request.url)).query)),
                             "json": json.loads(body) if body else None})

        async def scores(request: Request) -> Response:
            body = await request.body()
            service = Grades(lti_request(request, body), platform.conf(), platform.url + "/ags/lineitems",
                             platform.lineitem_url)
            result = service.handle_resp(service.handle_update_score, line_item_id=request.path_params["item"])
            return Response(result.message, status_code=result.code)

        async def memberships(request: Request) -> Response:
            service = Roster(lti_request(request, b""), platform.conf(), platform.url + "/nrps/memberships")
            result = service.handle_resp(service.handle_get_members)
            if result.code != 200:
                return Response(result.message, status_code=result.code)
            return JSONResponse(result.result, media_type=result.media_type)

        return Starlette(routes=[
            Route("/jwks", jwks), Route("/auth", auth), Route("/token", token, methods=["POST"]),
            Route("/dl-return", dl_return, methods=["POST"]),
            Route("/ags/lineitems/{item}/scores", scores, methods=["POST"]),
            Route("/nrps/memberships", memberships),
        ])
