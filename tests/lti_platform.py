"""A Moodle-like LTI 1.3 platform for tests, with real RSA keys, that can forge any claim.

It reproduces what Moodle 4.5 does that a tool can trip over:
- the redirect URI of the OIDC auth request must equal a registered one exactly;
- score POSTs need Content-Type exactly application/vnd.ims.lis.v1.score+json, go to
  …/lineitem/scores?type_id=N (`/scores` before the query), get 409 for a timestamp not later, in
  whole seconds, than the stored one, and only enrolled students can be scored;
- scoreGiven counts only with gradingProgress FullyGraded;
- an Accept header must carry exactly one media type;
- NRPS roles are short ("Learner"), id_token roles are full URIs; NRPS pages via the Link header.
It also can be switched "down" (503 everywhere) to test the tool's grade outbox.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


def rsa_key(kid: str | None = None) -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    return RSAKey.import_key({**key.as_dict(private=True), "kid": kid or key.thumbprint()})


class Server:
    """An ASGI app on 127.0.0.1 in a thread (a real socket, so the tool talks HTTP to it)."""

    def __init__(self, app, port: int = 0, **config):
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        self.sock = sock
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False, lifespan="off", **config))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                break
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@dataclass
class Member:
    user_id: str
    name: str
    email: str
    roles: list[str]  # short, as Moodle's NRPS sends them
    username: str = ""
    region: str = ""


@dataclass
class LineItem:
    id: str
    label: str
    score_maximum: float = 100
    resource_link_id: str = ""
    resource_id: str = ""
    tag: str = ""
    scores: dict = field(default_factory=dict)  # user id → (timestamp seconds, payload)
    received: list = field(default_factory=list)  # every accepted score POST, in order


class MoodleLikePlatform:
    def __init__(self, client_id: str = "moodle-client-1", deployment_id: str = "3", port: int = 0):
        self.key = rsa_key()
        self.extra_keys: list[RSAKey] = []
        self.client_id, self.deployment_id = client_id, deployment_id
        self.course_id = "42"
        self.down = False
        self.jwks_fetches = 0
        self.score_posts: list[dict] = []  # every score POST seen (accepted or not)
        self.token_requests = 0
        self.expire_tokens = False  # answer every service call with 401 once per token
        self.unauthorized_once = False  # the next service call gets 401 (a token revoked early)
        self.score_delay = 0.0  # seconds to wait after storing a score, before answering
        self.revoked: set[str] = set()
        self.tokens: dict[str, float] = {}
        self.tool_jwks_url = ""
        self.redirect_uris: list[str] = []
        self.pending: dict[str, dict] = {}  # lti_message_hint → launch spec
        self.members: list[Member] = []
        self.page_size = 2
        self.lineitems: dict[str, LineItem] = {}
        self.dl_responses: list[dict] = []
        self.registration_token = secrets.token_hex(8)
        self.registrations: list[dict] = []
        self.config_fetches = 0  # GETs of the OpenID configuration (registration), whatever the answer
        self.config_overrides: dict = {}  # forged fields of the OpenID configuration (attack tests)
        self.jwks_redirect = ""  # set: the key set answers 302 to this URL
        self.jwks_delay = 0.0  # seconds the key set takes to answer
        self.jwks_hosts: list[str] = []  # Host header of every key-set request
        self.tool_socket_url = ""  # where the platform reaches the tool's JWKS (tests: its real socket)
        self.auto_tool_url = ""  # set: launches named "auto:…" in lti_message_hint need no pending spec
        self.auto_lineitem = ""
        self.lock = threading.Lock()
        self.server = Server(self.app(), port)
        self.url = self.server.url

    # --- URLs as Moodle has them ----------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def auth_url(self) -> str:
        return self.url + "/mod/lti/auth.php"

    @property
    def token_url(self) -> str:
        return self.url + "/mod/lti/token.php"

    @property
    def jwks_url(self) -> str:
        return self.url + "/mod/lti/certs.php"

    @property
    def memberships_url(self) -> str:
        return f"{self.url}/mod/lti/services.php/CourseSection/{self.course_id}/bindings/2/memberships"

    def lineitem(self, resource_link_id: str, label: str = "Modul") -> str:
        item_id = str(len(self.lineitems) + 1)
        url = f"{self.url}/mod/lti/services.php/{self.course_id}/lineitems/{item_id}/lineitem?type_id=2"
        self.lineitems[item_id] = LineItem(id=url, label=label, resource_link_id=resource_link_id)
        return url

    def enrol(self, user_id: str, name: str = "", role: str = "Learner", region: str = "", email: str = "") -> None:
        self.members.append(Member(user_id, name or f"User {user_id}", email or f"{user_id}@example.org", [role],
                                   username=f"u{user_id}", region=region))

    def stop(self) -> None:
        self.server.stop()

    # --- tokens -------------------------------------------------------------------------

    def claims(self, tool_url: str, *, user: str = "2", roles: list[str] | None = None, nonce: str = "",
               target: str | None = None, message_type: str = "LtiResourceLinkRequest",
               resource_link: str = "rl-1", custom: dict | None = None, lineitem: str | None = None,
               deep_linking: dict | None = None, name: str | None = None) -> dict:
        """The claims Moodle 4.5 sends in an id_token (tests change any of them)."""
        issued = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "sub": user, "iat": issued, "exp": issued + 60,
            "nonce": nonce, "name": name or f"User {user}", "email": f"{user}@example.org",
            LTI + "deployment_id": self.deployment_id, LTI + "message_type": message_type,
            LTI + "version": "1.3.0", LTI + "target_link_uri": target or tool_url + "/lti/launch",
            LTI + "roles": roles if roles is not None else [ROLE_LEARNER],
            LTI + "context": {"id": self.course_id, "label": "NWK", "title": "Netzwerkkoordination",
                              "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
            LTI + "tool_platform": {"guid": "moodle.test", "product_family_code": "moodle", "version": "2024100700"},
            LTI + "launch_presentation": {"document_target": "iframe", "locale": "de"},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.memberships_url, "service_versions": ["1.0", "2.0"]},
        }
        if custom is not None:
            claims[LTI + "custom"] = custom
        if message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": resource_link, "title": "Modul"}
            ags = {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                             "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                             "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                             "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                   "lineitems": f"{self.url}/mod/lti/services.php/{self.course_id}/lineitems?type_id=2"}
            if lineitem:
                ags["lineitem"] = lineitem
            claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = ags
        else:
            claims[DL + "deep_linking_settings"] = deep_linking or {
                "deep_link_return_url": self.url + "/mod/lti/contentitem_return.php?course=42&id=2",
                "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["frame", "iframe", "window"],
                "accept_multiple": True, "auto_create": False, "data": "opaque-data-{\"a\":1}"}
        return claims

    def sign(self, claims: dict, *, key=None, kid: str | None = None, alg: str = "RS256",
             header: dict | None = None) -> str:
        key = key or self.key
        head = {"alg": alg, "typ": "JWT", "kid": kid if kid is not None else key.kid}
        head.update(header or {})
        if alg == "none":
            import base64
            import json

            def b64(data: dict) -> str:
                return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
            return f"{b64(head)}.{b64(claims)}."
        return jwt.encode(head, claims, key, algorithms=[alg])

    def hs256_with_public_key(self, claims: dict) -> str:
        """The classic alg-confusion attack: HMAC keyed with the platform's public key (PEM), made by
        hand because JOSE libraries rightly refuse to build it."""
        import base64
        import hashlib
        import hmac
        import json

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.key.kid}).encode())
        body = b64(json.dumps(claims).encode())
        mac = hmac.new(self.key.as_pem(private=False), f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64(mac)}"

    def jwks(self) -> dict:
        keys = [self.key] + self.extra_keys
        out = []
        for k in keys:
            public = k.as_dict(private=False)
            public.update({"kid": k.kid, "alg": "RS256", "use": "sig"})
            out.append(public)
        return {"keys": out}

    # --- the app --------------------------------------------------------------------------

    def app(self) -> Starlette:
        def unavailable() -> Response | None:
            return Response("down for maintenance", status_code=503) if self.down else None

        async def certs(request: Request) -> Response:
            self.jwks_fetches += 1
            self.jwks_hosts.append(request.headers.get("host", ""))
            if self.jwks_delay:
                import asyncio

                await asyncio.sleep(self.jwks_delay)
            if self.jwks_redirect:
                return Response(status_code=302, headers={"Location": self.jwks_redirect})
            return unavailable() or JSONResponse(self.jwks())

        async def auth(request: Request) -> Response:
            params = dict(request.query_params) if request.method == "GET" else dict(await request.form())
            if params.get("redirect_uri") not in self.redirect_uris:
                return HTMLResponse("Invalid redirect URI", status_code=400)
            if params.get("client_id") != self.client_id or params.get("scope") != "openid" or \
                    params.get("response_type") != "id_token" or params.get("response_mode") != "form_post" or \
                    params.get("prompt") != "none":
                return HTMLResponse("invalid_request", status_code=400)
            hint = params.get("lti_message_hint", "")
            spec = self.pending.get(hint)
            if spec is None and hint.startswith("auto:") and self.auto_tool_url:
                # bench/bench_lti.py: "auto:<user>:<resource link>:<module>" needs no set-up per launch
                _, user, link, module = hint.split(":", 3)
                spec = {"claims": self.claims(self.auto_tool_url, user=user, resource_link=link,
                                              custom={"module": module}, lineitem=self.auto_lineitem or None)}
            if spec is None:
                return HTMLResponse("unknown lti_message_hint", status_code=400)
            claims = dict(spec["claims"])
            claims["nonce"] = params["nonce"]
            if spec.get("mutate"):
                spec["mutate"](claims)
            token = spec["token"](claims) if spec.get("token") else self.sign(claims, **spec.get("sign", {}))
            fields = {"id_token": token, "state": params["state"]}
            inputs = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items())
            return HTMLResponse(f'<form id="f" method="post" action="{html.escape(params["redirect_uri"])}">{inputs}'
                                f'</form><script>document.getElementById("f").submit()</script>')

        async def token(request: Request) -> Response:
            if self.down:
                return unavailable()
            form = dict(await request.form())
            self.token_requests += 1
            if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
            try:
                tool_keys = KeySet.import_key_set(httpx.get(self.tool_jwks_url, timeout=5).json())
                assertion = jwt.decode(form["client_assertion"], tool_keys, algorithms=["RS256"]).claims
            except Exception as exc:  # noqa: BLE001 - any failure is an invalid client
                return JSONResponse({"error": "invalid_client", "detail": str(exc)}, status_code=401)
            if assertion.get("sub") != self.client_id or assertion.get("aud") not in (self.token_url, [self.token_url]):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            value = secrets.token_hex(16)
            self.tokens[value] = time.time() + 3600
            return JSONResponse({"access_token": value, "token_type": "Bearer", "expires_in": 3600,
                                 "scope": form.get("scope", "")})

        def authorised(request: Request) -> bool:
            header = request.headers.get("authorization", "")
            value = header[7:] if header.lower().startswith("bearer ") else ""
            if value not in self.tokens or value in self.revoked:
                return False
            if self.expire_tokens or self.unauthorized_once:  # the tool must get a new token
                self.unauthorized_once = False
                self.revoked.add(value)
                return False
            return True

        def one_accept(request: Request) -> bool:
            accept = request.headers.get("accept")
            return accept is None or ("," not in accept)

        async def scores(request: Request) -> Response:
            if self.down:
                return unavailable()
            item_id = request.path_params["item"]
            payload_raw = await request.body()
            with self.lock:
                self.score_posts.append({"item": item_id, "query": request.url.query,
                                         "content_type": request.headers.get("content-type"), "body": payload_raw})
            if not authorised(request):
                return Response("Unauthorized", status_code=401)
            if not one_accept(request):
                return Response("Accept must name one media type", status_code=406)
            if request.headers.get("content-type") != SCORE_TYPE:
                return Response("Incorrect content type", status_code=400)
            if request.url.query != "type_id=2":
                return Response("missing type_id", status_code=404)
            item = self.lineitems.get(item_id)
            if item is None:
                return Response("No line item", status_code=404)
            import json

            score = json.loads(payload_raw)
            learners = {m.user_id for m in self.members if "Learner" in m.roles}
            if score.get("userId") not in learners:
                return Response("Only enrolled students can be graded", status_code=400)
            stamp = int(dt.datetime.fromisoformat(score["timestamp"].replace("Z", "+00:00")).timestamp())
            with self.lock:
                previous = item.scores.get(score["userId"])
                if previous and stamp <= previous[0]:
                    return Response("Refusing score with an earlier timestamp", status_code=409)
                if score.get("gradingProgress") != "FullyGraded":
                    score = {**score, "scoreGiven": None}
                item.scores[score["userId"]] = (stamp, score)
                item.received.append(score)
            if self.score_delay:
                import asyncio

                await asyncio.sleep(self.score_delay)
            return Response(status_code=200)

        async def lineitems(request: Request) -> Response:
            # Moodle's line item container: GET filters by resource_link_id; POST adds a column
            # (Content-Type exactly the line item type, label and scoreMaximum required), answers 201.
            if self.down:
                return unavailable()
            if not authorised(request):
                return Response("Unauthorized", status_code=401)
            import json

            if request.method == "GET":
                link = request.query_params.get("resource_link_id")
                items = [{"id": i.id, "label": i.label, "scoreMaximum": i.score_maximum, "resourceId": i.resource_id,
                          "tag": i.tag, "resourceLinkId": i.resource_link_id}
                         for i in self.lineitems.values() if link is None or i.resource_link_id == link]
                return JSONResponse(items, media_type="application/vnd.ims.lis.v2.lineitemcontainer+json")
            if request.headers.get("content-type") != "application/vnd.ims.lis.v2.lineitem+json":
                return Response("No context or unsupported content type", status_code=400)
            body = json.loads(await request.body())
            if "label" not in body or "scoreMaximum" not in body:
                return Response("No label or Score Maximum", status_code=400)
            url = self.lineitem(str(body.get("resourceLinkId") or ""), body["label"])
            item = self.lineitems[url.split("/lineitems/", 1)[1].split("/", 1)[0]]
            item.resource_id, item.tag = str(body.get("resourceId") or ""), str(body.get("tag") or "")
            return JSONResponse({**body, "id": url}, status_code=201,
                                media_type="application/vnd.ims.lis.v2.lineitem+json")

        async def memberships(request: Request) -> Response:
            if self.down:
                return unavailable()
            if not authorised(request):
                return Response("Unauthorized", status_code=401)
            if request.headers.get("accept") != "application/vnd.ims.lti-nrps.v2.membershipcontainer+json":
                return Response("Accept must name one media type", status_code=406)
            page = int(request.query_params.get("page", "1"))
            start = (page - 1) * self.page_size
            chunk = self.members[start:start + self.page_size]
            body = {"id": self.memberships_url, "context": {"id": self.course_id, "label": "NWK", "title": "NWK"},
                    "members": [{"user_id": m.user_id, "name": m.name, "email": m.email, "roles": m.roles,
                                 "status": "Active", "ext_user_username": m.username} for m in chunk]}
            headers = {"Content-Type": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"}
            if start + self.page_size < len(self.members):
                headers["Link"] = f'<{self.memberships_url}?{urlencode({"page": page + 1})}>; rel="next"'
            return JSONResponse(body, headers=headers)

        async def contentitem_return(request: Request) -> Response:
            form = dict(await request.form())
            claims = jwt.decode(form["JWT"], KeySet.import_key_set(httpx.get(self.tool_jwks_url, timeout=5).json()),
                                algorithms=["RS256"]).claims
            self.dl_responses.append(claims)
            return HTMLResponse("ok")

        async def openid_configuration(request: Request) -> Response:
            self.config_fetches += 1
            if request.headers.get("authorization") != f"Bearer {self.registration_token}":
                return Response("Unauthorized", status_code=401)
            return JSONResponse({
                "issuer": self.issuer, "authorization_endpoint": self.auth_url, "token_endpoint": self.token_url,
                "jwks_uri": self.jwks_url, "registration_endpoint": self.url + "/mod/lti/openid-registration.php",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "scopes_supported": ["openid"], "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"], "claims_supported": ["sub", "iss", "name"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "moodle", "version": "4.5",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}]},
                **self.config_overrides})

        async def openid_registration(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {self.registration_token}":
                return Response("Unauthorized", status_code=401)
            import json

            body = json.loads(await request.body())
            self.registrations.append(body)
            self.redirect_uris = list(body["redirect_uris"])
            self.tool_jwks_url = body["jwks_uri"].replace("https://tool.test", self.tool_socket_url or "https://tool.test")
            return JSONResponse({**body, "client_id": self.client_id, "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                **body["https://purl.imsglobal.org/spec/lti-tool-configuration"], "deployment_id": self.deployment_id}})

        return Starlette(routes=[
            Route("/mod/lti/openid-configuration.php", openid_configuration),
            Route("/mod/lti/openid-registration.php", openid_registration, methods=["POST"]),
            Route("/mod/lti/certs.php", certs),
            Route("/mod/lti/auth.php", auth, methods=["GET", "POST"]),
            Route("/mod/lti/token.php", token, methods=["POST"]),
            Route("/mod/lti/services.php/{course}/lineitems/{item}/lineitem/scores", scores, methods=["POST"]),
            Route("/mod/lti/services.php/{course}/lineitems", lineitems, methods=["GET", "POST"]),
            Route("/mod/lti/services.php/CourseSection/{course}/bindings/{binding}/memberships", memberships),
            Route("/mod/lti/contentitem_return.php", contentitem_return, methods=["POST"]),
        ])


def form_fields(page: str) -> tuple[str, dict]:
    """The action and hidden fields of an auto-posting form page."""
    action = html.unescape(re.search(r'<form[^>]*action="([^"]*)"', page).group(1))
    fields = {html.unescape(m.group(1)): html.unescape(m.group(2))
              for m in re.finditer(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page)}
    return action, fields


def new_message_hint() -> str:
    return uuid.uuid4().hex
