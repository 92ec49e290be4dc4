"""The LTI tool under test: served on a real socket (platforms fetch its JWKS) and driven in-process
by Starlette's TestClient as the learner's browser (cookie jar, https://tool.test)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import warnings

import httpx
import pytest

# Starlette 1.x suggests `httpx2` for its TestClient; httpx is what the project uses everywhere else.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
from starlette.testclient import TestClient  # noqa: E402

from course_builder import check
from lti import ags
from lti.app import create_app
from lti.config import Settings
from lti.platforms import register_platform
from lti_platform import MoodleLikePlatform, Server, form_fields, new_message_hint

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "fixtures" / "mini"
_course_cache: dict = {}


def course(path: Path = MINI):
    if path not in _course_cache:
        _course_cache[path] = check(path)[0]
    return _course_cache[path]


def csrf_of(page: str) -> str:
    data = json.loads(page.split('id="player-data">', 1)[1].split("</script>", 1)[0])
    return data["csrf"]


def answer(q: dict, right: bool):
    """A right or a wrong (0 %) answer in the runtime's shape, from a question's data merged with its key."""
    kind = q["type"]
    if kind in ("single", "truefalse"):
        return next(i for i, a in enumerate(q["answers"]) if (a["weight"] >= 99.999) == right)
    if kind == "multiple":
        return [a["correct"] == right for a in q["answers"]]
    if kind == "short":
        return max(q["answers"], key=lambda a: a["weight"])["text"] if right else "Zufall"
    if kind == "numerical":
        best = max(q["answers"], key=lambda a: a["weight"])
        return f"{best['value']:g}" if right else f"{best['value'] + best['tolerance'] + 7:g}"
    if kind == "matching":
        return [p["right"] if right else (p["right"] + 1) % q["rights"] for p in q["pairs"]]
    if kind == "ordering":
        return list(q["order"]) if right else [p % len(q["order"]) + 1 for p in q["order"]]
    return "Ein Text."


@dataclass
class Flow:
    login: httpx.Response
    launch: httpx.Response | None
    fields: dict


class Tool:
    def __init__(self, data_dir: Path, platform: MoodleLikePlatform | None = None, *,
                 base_url: str = "https://tool.test", database_url: str | None = None, course_path: Path = MINI,
                 policy: ags.OutboxPolicy | None = None, dev: bool = True):
        # dev: the platforms under test listen on 127.0.0.1, which the outbound client refuses otherwise.
        self.settings = Settings(base_url=base_url, data_dir=data_dir, database_url=database_url,
                                 run_worker=False, http_timeout=3.0, dev=dev)
        self.app = create_app(self.settings, course(course_path), refetch_interval=0,
                              policy=policy or ags.OutboxPolicy(base_delay=0.0, lease_seconds=2))
        self.tool = self.app.state.tool
        self.server = Server(self.app)
        self.client = TestClient(self.app, base_url=base_url, follow_redirects=False)
        self.platform = platform
        if platform is not None:
            self.register(platform)

    def register(self, platform: MoodleLikePlatform) -> None:
        platform.tool_jwks_url = self.server.url + "/.well-known/jwks.json"
        platform.redirect_uris = [self.settings.url("/lti/launch")]
        with self.tool.Session() as session:
            register_platform(session, issuer=platform.issuer, client_id=platform.client_id,
                              auth_login_url=platform.auth_url, auth_token_url=platform.token_url,
                              jwks_url=platform.jwks_url, deployment_ids=[platform.deployment_id], name="Moodle")

    def registration_path(self, lifetime: int = 3600) -> str:
        """/lti/register/<token>: a one-time registration URL, as `course lti register --dynamic` makes it."""
        from lti.registration import new_token

        with self.tool.Session() as session:
            return "/lti/register/" + new_token(session, lifetime)

    def snapshot(self) -> list[dict]:
        """Every stored platform with its deployments (to prove that a refused registration changed nothing)."""
        from sqlalchemy import select

        from lti.db import Deployment, Platform

        with self.tool.Session() as session:
            rows = []
            for platform in session.scalars(select(Platform).order_by(Platform.id)):
                row = {c.name: getattr(platform, c.name) for c in Platform.__table__.columns
                       if c.name not in ("jwks", "jwks_fetched_at")}
                row["deployments"] = sorted(session.scalars(select(Deployment.deployment_id)
                                                            .where(Deployment.platform_id == platform.id)))
                rows.append(row)
            return rows

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.tool.http.close()
        self.tool.engine.dispose()
        self.tool.background.kw["bind"].dispose()

    # --- flows ---------------------------------------------------------------------------

    def start_login(self, *, target: str | None = None, client_id: str | None = "same", hint: str | None = None,
                    **extra) -> httpx.Response:
        p = self.platform
        params = {"iss": p.issuer, "login_hint": "2", "target_link_uri": target or self.settings.url("/lti/launch"),
                  "lti_message_hint": hint or new_message_hint(), "lti_deployment_id": p.deployment_id}
        if client_id:
            params["client_id"] = p.client_id if client_id == "same" else client_id
        params.update(extra)
        return self.client.get("/lti/login", params=params)

    def launch(self, claims: dict | None = None, *, mutate=None, token=None, sign: dict | None = None,
               target: str | None = None, post: bool = True, **claim_args) -> Flow:
        """The whole OIDC flow through the platform's auth endpoint; claims built by the platform."""
        hint = new_message_hint()
        target = target or self.settings.url("/lti/launch")
        claims = claims or self.platform.claims(self.settings.base_url, target=target, **claim_args)
        self.platform.pending[hint] = {"claims": claims, "mutate": mutate, "token": token, "sign": sign or {}}
        login = self.start_login(target=target, hint=hint)
        assert login.status_code == 302, login.text
        page = httpx.get(login.headers["location"], timeout=5)
        assert page.status_code == 200, page.text
        _, fields = form_fields(page.text)
        launch = self.client.post("/lti/launch", data=fields) if post else None
        return Flow(login, launch, fields)

    def play(self, flow: Flow) -> tuple[str, str]:
        """(launch id, page html) of a successful resource link launch."""
        assert flow.launch.status_code == 303, flow.launch.text
        location = flow.launch.headers["location"]
        launch_id = location.rsplit("/", 1)[-1]
        page = self.client.get(location)
        assert page.status_code == 200
        return launch_id, page.text

    def state(self, launch_id: str, page: str) -> httpx.Response:
        """The learner's saved state as the page reads it: with the launch's CSRF token."""
        return self.client.get(f"/lti/state/{launch_id}",
                               headers={"Accept": "application/json", "X-CSRF-Token": csrf_of(page)})

    def submit(self, launch_id: str, page: str, answers: dict) -> httpx.Response:
        """A quiz attempt as the page sends it: answers only."""
        return self.client.post(f"/lti/attempt/{launch_id}", content=json.dumps({"answers": answers}),
                                headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_of(page)})

    def answers_scoring(self, module_id: str, score: float) -> dict:
        """Answers that earn `score` (0–100): some questions answered right (the last ones first), the rest wrong."""
        quiz = self.tool.course.quiz_for(module_id)
        keys = self.tool.quiz_keys(module_id)
        target = score / 100 * quiz.auto_points
        answers, earned = {}, 0.0
        for q in sorted((q for q in reversed(quiz.questions) if q.auto_graded), key=lambda q: -q.points):
            right = earned + q.points <= target + 1e-9
            earned += q.points if right else 0
            answers[q.id] = answer(keys[q.id], right)
        assert abs(earned - target) < 1e-9, f"no answer set of {module_id} scores {score}"
        return answers

    def counts(self) -> dict:
        """How many rows each table holds (to prove a rejected launch stored nothing)."""
        from sqlalchemy import func, select

        from lti.db import Launch, LoginState, OutboxScore, Progress

        with self.tool.Session() as session:
            return {
                "launches": session.scalar(select(func.count()).select_from(Launch)),
                "progress": session.scalar(select(func.count()).select_from(Progress)),
                "outbox": session.scalar(select(func.count()).select_from(OutboxScore)),
                "consumed": session.scalar(select(func.count()).select_from(LoginState)
                                           .where(LoginState.consumed_at.is_not(None))),
            }



@pytest.fixture(scope="module")
def platform():
    """A Moodle-like platform for the tests of one module."""
    p = MoodleLikePlatform()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def tool(platform, tmp_path_factory):
    """The tool, registered with `platform`, shared by the tests of one module."""
    t = Tool(tmp_path_factory.mktemp("lti") / "data", platform)
    yield t
    t.close()


@contextlib.contextmanager
def tool_with_pypi_platform(data_dir: Path):
    """(tool, platform): an lti1p3platform (PyPI) platform registered with the tool as `course lti register`
    would do it; both stopped afterwards."""
    from lti_pypi_platform import PypiPlatform

    tool = Tool(data_dir)
    pypi = PypiPlatform(tool.settings.base_url, tool.server.url + "/.well-known/jwks.json")
    try:
        with tool.tool.Session() as session:
            register_platform(session, issuer=pypi.url, client_id=pypi.client_id, auth_login_url=pypi.url + "/auth",
                              auth_token_url=pypi.url + "/token", jwks_url=pypi.url + "/jwks",
                              deployment_ids=[pypi.deployment_id])
        yield tool, pypi
    finally:
        pypi.stop()
        tool.close()


def pypi_launch(tool: Tool, pypi, user: str, **login) -> Flow:
    """Login at the tool → the PyPI platform's auth answer → POST /lti/launch."""
    started = tool.client.get(pypi.login_url(user, **login).replace(tool.settings.base_url, ""))
    assert started.status_code == 302, started.text
    fields = httpx.get(started.headers["location"], timeout=5).json()
    assert fields["launch_url"] == tool.settings.url("/lti/launch")
    launch = tool.client.post("/lti/launch", data={"id_token": fields["id_token"], "state": fields["state"]})
    return Flow(started, launch, fields)
