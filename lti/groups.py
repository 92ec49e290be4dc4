"""Project groups from the roster: groups of four, none under three, participants of one network or
region spread over the groups (so that each group brings several networks together), adjusted by the
teacher and exported as CSV and as Moodle import files."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .csvfile import write_csv
from .db import Launch, RosterMember
from .nrps import sync_roster
from .roles import is_learner
from .security import Rejected, csrf_ok, csrf_token

TARGET_SIZE, MIN_SIZE = 4, 3
DONE = ("synced", "regions", "formed", "saved")  # what the page can report after an action (lti_groups_<done>)


def group_sizes(n: int) -> list[int]:
    """Sizes for n people: as many groups of four as possible, none under three (fives where needed)."""
    if n <= 0:
        return []
    if n < 2 * MIN_SIZE:  # too few for two groups: one group (of at most five)
        return [n]
    count = -(-n // TARGET_SIZE)
    if n // count < MIN_SIZE:
        count = n // TARGET_SIZE
    base, extra = divmod(n, count)
    return [base + 1] * extra + [base] * (count - extra)


def form_groups(people: list[tuple[str, str]]) -> dict[str, int]:
    """people: (user id, region). Returns user id → group index; deterministic for the same input.

    The biggest regions are dealt first, round-robin, so each region is spread as evenly as the sizes allow.
    """
    sizes = group_sizes(len(people))
    if not sizes:
        return {}
    frequency = Counter(region for _, region in people)
    ordered = sorted(people, key=lambda p: (p[1] == "", -frequency[p[1]], p[1], p[0]))
    members: list[list[str]] = [[] for _ in sizes]
    assignment: dict[str, int] = {}
    index = 0
    for user_id, _ in ordered:
        while len(members[index % len(sizes)]) >= sizes[index % len(sizes)]:
            index += 1
        group = index % len(sizes)
        members[group].append(user_id)
        assignment[user_id] = group
        index += 1
    return assignment


def group_label(ui: dict[str, str], index: int) -> str:
    # The same names the Moodle backup gives its project groups.
    return ui["moodle_group"].format(n=index + 1)


def learners(session: Session, launch: Launch) -> list[RosterMember]:
    rows = session.scalars(select(RosterMember).where(RosterMember.platform_id == launch.platform_id,
                                                      RosterMember.context_id == launch.context_id)
                           .order_by(RosterMember.name, RosterMember.user_id)).all()
    return [r for r in rows if is_learner(r.roles) and r.status == "Active"]


def assign(session: Session, launch: Launch, ui: dict[str, str]) -> None:
    people = learners(session, launch)
    result = form_groups([(p.user_id, p.region) for p in people])
    for person in people:
        person.group_name = group_label(ui, result[person.user_id])
    session.commit()


def import_regions(session: Session, launch: Launch, text: str) -> int:
    """A teacher's CSV with a column region (or network) and one of user_id, email, username."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), dialect=_dialect(text))
    fields = {f.strip().lower(): f for f in reader.fieldnames or []}
    region_field = fields.get("region") or fields.get("network") or fields.get("netzwerk") or fields.get("region/netzwerk")
    if region_field is None:
        raise Rejected("The CSV needs a column region (or network).", 400, "bad_csv")
    rows = session.scalars(select(RosterMember).where(RosterMember.platform_id == launch.platform_id,
                                                      RosterMember.context_id == launch.context_id)).all()
    index = {}
    for row in rows:
        for key in ("user_id", "email", "username"):
            value = getattr(row, key).strip().lower()
            if value:
                index[(key, value)] = row
    matched = 0
    for line in reader:
        for key in ("user_id", "email", "username"):
            column = fields.get(key)
            value = (line.get(column) or "").strip().lower() if column else ""
            if value and (key, value) in index:
                index[(key, value)].region = (line.get(region_field) or "").strip()
                matched += 1
                break
    session.commit()
    return matched


def _dialect(text: str):
    first = text.splitlines()[0] if text else ""
    return "excel-tab" if "\t" in first else ("excel" if first.count(",") >= first.count(";") else _Semicolon)


class _Semicolon(csv.excel):
    delimiter = ";"


def export_csv(people: list[RosterMember]) -> str:
    rows = [["group", "user_id", "name", "email", "username", "region"]]
    rows += [[p.group_name, p.user_id, p.name, p.email, p.username, p.region]
             for p in sorted(people, key=lambda p: (p.group_name, p.name, p.user_id)) if p.group_name]
    return write_csv(rows)


def moodle_groups_csv(people: list[RosterMember], description: str) -> str:
    """For Moodle's Participants > Groups > Import groups (creates the groups)."""
    names = sorted({p.group_name for p in people if p.group_name})
    return write_csv([["groupname", "description"]] + [[name, description] for name in names])


def moodle_members_csv(people: list[RosterMember], course_shortname: str) -> str:
    """For Moodle's Site administration > Users > Upload users (course1 + group1 put users into groups)."""
    rows = [["username", "email", "course1", "group1"]]
    rows += [[p.username, p.email, course_shortname, p.group_name]
             for p in sorted(people, key=lambda p: (p.group_name, p.username)) if p.group_name]
    return write_csv(rows)


def group_of(session: Session, platform_id: int, context_id: str, user_id: str) -> dict | None:
    me = session.scalar(select(RosterMember).where(RosterMember.platform_id == platform_id,
                                                   RosterMember.context_id == context_id,
                                                   RosterMember.user_id == user_id))
    if me is None or not me.group_name:
        return None
    names = session.scalars(select(RosterMember.name).where(RosterMember.platform_id == platform_id,
                                                            RosterMember.context_id == context_id,
                                                            RosterMember.group_name == me.group_name)
                            .order_by(RosterMember.name)).all()
    return {"name": me.group_name, "members": list(names)}


# --- the teacher's pages -----------------------------------------------------------------------------


def routes(tool, rejected_page) -> list:
    settings = tool.settings

    def page(launch_id: str, done: str = "", count: str = "") -> Response:
        # The redirect after an action names what was done (and how many); the text comes from the UI strings.
        message = tool.ui["lti_groups_" + done].format(n=count) if done in DONE else ""
        with tool.Session() as session:
            launch = tool.instructor_launch(session, launch_id)
            people = learners(session, launch)
        group_names = sorted({p.group_name for p in people if p.group_name}) or []
        return tool.render("groups.html.j2", people=people, launch_id=launch_id, message=message,
                           csrf=csrf_token(settings, launch_id), group_names=group_names,
                           sizes=Counter(p.group_name for p in people if p.group_name))

    @rejected_page
    async def show(request: Request) -> Response:
        query = request.query_params
        return await run_in_threadpool(page, request.path_params["launch_id"], query.get("done", ""),
                                       query.get("n", "") if query.get("n", "").isdigit() else "")

    @rejected_page
    async def act(request: Request) -> Response:
        launch_id, action = request.path_params["launch_id"], request.path_params["action"]
        form = await request.form(max_part_size=2 * 1024 * 1024)
        if not csrf_ok(settings, launch_id, form.get("csrf")):
            raise Rejected("The form's CSRF token is wrong.", 403, "bad_csrf")
        upload = form.get("file")
        text = ""
        if upload is not None and not isinstance(upload, str):
            text = (await upload.read()).decode("utf-8-sig", errors="replace")
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}

        def run() -> str:
            """What was done, as the query of the redirect back to the page."""
            from .ags import ServiceError

            with (tool.background if action == "sync" else tool.Session)() as session:
                launch = tool.instructor_launch(session, launch_id)
                if action == "sync":
                    try:
                        return urlencode({"done": "synced", "n": sync_roster(session, launch, tool.http)})
                    except ServiceError as exc:
                        raise Rejected(f"The roster could not be fetched: {exc}", 502, "roster_failed",
                                       error=exc) from None
                if action == "form":
                    assign(session, launch, tool.ui)
                    return urlencode({"done": "formed"})
                if action == "regions":
                    return urlencode({"done": "regions", "n": import_regions(session, launch, text)})
                if action == "save":
                    for person in learners(session, launch):
                        chosen = values.get(f"group-{person.user_id}")
                        if chosen is not None:
                            person.group_name = chosen.strip()[:100]
                    session.commit()
                    return urlencode({"done": "saved"})
            raise Rejected("Unknown action.", 404, "unknown_action")

        done = await run_in_threadpool(run)
        return RedirectResponse(f"/lti/groups/{launch_id}?{done}", status_code=303)

    @rejected_page
    async def export(request: Request) -> Response:
        launch_id, kind = request.path_params["launch_id"], request.path_params["kind"]

        def run() -> Response:
            with tool.Session() as session:
                launch = tool.instructor_launch(session, launch_id)
                people = learners(session, launch)
                shortname = launch.context_label or launch.context_title
            if kind == "groups.csv":
                body = export_csv(people)
            elif kind == "moodle-groups.csv":
                body = moodle_groups_csv(people, tool.ui["project"])
            elif kind == "moodle-members.csv":
                body = moodle_members_csv(people, shortname)
            else:
                raise Rejected("Unknown export.", 404, "unknown_export")
            return Response(body, media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{kind}"'})
        return await run_in_threadpool(run)

    return [Route("/lti/groups/{launch_id}", show),
            Route("/lti/groups/{launch_id}/do/{action}", act, methods=["POST"]),
            Route("/lti/groups/{launch_id}/export/{kind}", export)]
