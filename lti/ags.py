"""Assignment and Grade Services: a durable outbox of scores and the worker that delivers them.

A score is written to the outbox in the same transaction as the learner's progress, so nothing is
lost when the tool stops. The worker leases rows (a conditional UPDATE, safe with several workers
on one database), delivers the earliest pending score per user and line item first, and retries
with exponential backoff. Timestamps are whole seconds, strictly increasing per user and line item:
Moodle answers 409 to a timestamp not later than the stored one, which for our own row means the
platform already has it (an earlier delivery whose answer we lost) — so 409 counts as delivered.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from . import keys
from .db import AccessToken, Launch, OutboxScore, Platform, now
from .outbound import OutboundClient, OutboundError, OutboundPolicy

log = logging.getLogger("lti.ags")

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def scores_url(lineitem: str) -> str:
    """`/scores` goes onto the path, before any query (Moodle: …/lineitem/scores?type_id=N)."""
    parts = urlsplit(lineitem)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


def can_score(launch: Launch) -> bool:
    return bool(launch.ags.get("lineitem")) and SCORE_SCOPE in (launch.ags.get("scope") or [])


def enqueue(session: Session, launch: Launch, score: float, completed: bool,
            column: dict | None = None) -> OutboxScore | None:
    """Add a score for the launch's user and line item (caller commits). None if the link takes no grades.

    A link that came without a line item but may have one made (`needs_lineitem`) gets a row addressed to
    the column still to be made (`column`: its label, resourceId and tag); the worker makes or finds the
    column before it delivers, so the score survives the platform being down when it was earned.
    """
    if can_score(launch):
        lineitem = launch.ags["lineitem"]
    elif column is not None and needs_lineitem(launch):
        lineitem = column_placeholder(launch)
    else:
        return None
    last = session.scalar(select(func.max(OutboxScore.timestamp)).where(
        OutboxScore.platform_id == launch.platform_id, OutboxScore.lineitem_url == lineitem,
        OutboxScore.user_id == launch.user_id))
    timestamp = max(now(), (last or 0) + 1)
    payload = {
        "userId": launch.user_id,
        "scoreGiven": round(max(0.0, min(100.0, float(score))), 4),
        "scoreMaximum": 100,
        "activityProgress": "Completed" if completed else "InProgress",
        # Moodle counts scoreGiven only when FullyGraded; the runtime grades the quiz itself.
        "gradingProgress": "FullyGraded",
        "timestamp": iso(timestamp),
    }
    if lineitem != launch.ags.get("lineitem"):
        payload[COLUMN_KEY] = lineitem_body(launch, column)
    row = OutboxScore(platform_id=launch.platform_id, lineitem_url=lineitem, user_id=launch.user_id,
                      timestamp=timestamp, payload=payload, status="pending", attempts=0, next_attempt_at=0,
                      lease_until=0, last_error="")
    session.add(row)
    return row


# --- tokens ---------------------------------------------------------------------------------


class ServiceError(Exception):
    def __init__(self, message: str, retry: bool = True):
        super().__init__(message)
        self.retry = retry


def access_token(session: Session, platform: Platform, scopes: list[str], client: OutboundClient,
                 force: bool = False) -> str:
    """A bearer token for the scopes: from the cache unless about to expire (or force), else requested."""
    scope_key = " ".join(sorted(scopes))
    cached = session.get(AccessToken, (platform.id, scope_key))
    if cached is not None and not force and cached.expires_at - 30 > now():
        return cached.token
    issued = now()
    assertion = keys.sign(session, {"iss": platform.client_id, "sub": platform.client_id,
                                    "aud": platform.token_audience or platform.auth_token_url,
                                    "iat": issued, "exp": issued + 300, "jti": uuid.uuid4().hex})
    try:
        response = client.post(platform.auth_token_url, data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion, "scope": scope_key}, headers={"Accept": "application/json"})
    except OutboundError as exc:
        raise ServiceError(f"token endpoint unreachable: {exc}") from None
    if response.status_code != 200:
        log.warning("token endpoint of platform %s answered %s: %s", platform.id, response.status_code,
                    response.text[:300])
        raise ServiceError(f"token endpoint answered {response.status_code}",
                           retry=response.status_code >= 500 or response.status_code == 429)
    try:
        data = response.json()
        token, expires_in = data["access_token"], int(data.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError):
        raise ServiceError("token endpoint answered without an access_token") from None
    if cached is None:
        cached = AccessToken(platform_id=platform.id, scopes=scope_key, token=token, expires_at=issued + expires_in)
        session.add(cached)
    cached.token, cached.expires_at = token, issued + expires_in
    try:
        session.commit()
    except IntegrityError:  # another worker cached one at the same moment; ours is as good
        session.rollback()
    return token


def service_request(session: Session, platform: Platform, scopes: list[str], client: OutboundClient,
                    method: str, url: str, **kwargs) -> httpx.Response:
    """A request with a cached token; on 401 the token is refreshed once and the request repeated."""
    response = None
    for force in (False, True):
        token = access_token(session, platform, scopes, client, force=force)
        headers = dict(kwargs.pop("headers", {}) or {})
        headers["Authorization"] = f"Bearer {token}"
        try:
            response = client.request(method, url, headers=headers, **kwargs)
        except OutboundError as exc:  # its text names no address: it is shown to teachers
            raise ServiceError(f"the platform's service is unreachable: {exc}") from None
        kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
        if response.status_code != 401:
            return response
    return response


# --- a line item for links placed without one -----------------------------------------------------

LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"


def needs_lineitem(launch: Launch) -> bool:
    return lineitem_missing(launch.ags or {}, launch.resource_link_id)


def lineitem_missing(ags: dict, resource_link_id: str) -> bool:
    """The AGS claim has a line item container we may add to, but no line item for this link."""
    scopes = ags.get("scope") or []
    return (not ags.get("lineitem") and bool(ags.get("lineitems")) and bool(resource_link_id)
            and LINEITEM_SCOPE in scopes and SCORE_SCOPE in scopes)


COLUMN_MARK = "#course-builder-column-for-resource-link="
COLUMN_KEY = "_column"  # in a placeholder row's payload: the line item to make; never sent as a score


def column_placeholder(launch: Launch) -> str:
    """The outbox address of a score whose line item is still to be made: the container plus the link."""
    return launch.ags["lineitems"] + COLUMN_MARK + quote(launch.resource_link_id, safe="")


def lineitem_body(launch: Launch, column: dict) -> dict:
    """The line item to make for the launch's resource link; `column`: its label, resourceId and tag."""
    return {**column, "scoreMaximum": 100, "resourceLinkId": launch.resource_link_id}


def ensure_lineitem(session: Session, launch: Launch, client: OutboundClient, column: dict) -> str | None:
    """The line item of a resource link that came without one, found by its resource link id or created.

    Moodle gives links imported from a Common Cartridge no grade item, so their launches carry only the
    course's line item container; creating the column there (Moodle: "grade sync and column
    management") lets the scores arrive. Stored on the launch, so scores are enqueued as usual.
    """
    if not needs_lineitem(launch):
        return (launch.ags or {}).get("lineitem")
    platform = session.get(Platform, launch.platform_id)
    url = find_or_create_lineitem(session, platform, client, launch.ags["lineitems"], lineitem_body(launch, column))
    launch.ags = {**launch.ags, "lineitem": url}
    session.commit()
    return url


def find_or_create_lineitem(session: Session, platform: Platform, client: OutboundClient, container: str,
                            column: dict) -> str:
    """The container's line item for column["resourceLinkId"]: an existing one (made by an earlier launch
    or another instance), else a new one from `column`."""
    link = str(column["resourceLinkId"])
    parts = urlsplit(container)
    query = "&".join(filter(None, [parts.query, "resource_link_id=" + quote(link, safe="")]))
    found = service_request(session, platform, [LINEITEM_SCOPE], client, "GET",
                            urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")),
                            headers={"Accept": LINEITEMS_TYPE})
    if found.status_code == 200:
        try:
            items = found.json()
        except ValueError:
            items = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and str(item.get("resourceLinkId")) == link and item.get("id"):
                return str(item["id"])
    elif found.status_code >= 500 or found.status_code == 429:
        raise ServiceError(f"the platform's line items are unavailable ({found.status_code})")
    created = service_request(session, platform, [LINEITEM_SCOPE], client, "POST", container,
                              content=json.dumps(column).encode(),
                              headers={"Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE})
    if created.status_code >= 500 or created.status_code == 429:
        raise ServiceError(f"the platform could not make a line item now ({created.status_code})")
    if created.status_code not in (200, 201):
        raise ServiceError(f"the platform refused a new line item ({created.status_code})", retry=False)
    try:
        return str(created.json()["id"])
    except (ValueError, KeyError, TypeError):
        raise ServiceError("the platform's new line item has no id", retry=False) from None


def resolve_column(session: Session, platform: Platform, row: OutboxScore, client: OutboundClient) -> bool:
    """Give a placeholder row its real line item (made or found now). False if a later score of the user for
    that line item exists already: this older one is then not sent (it would overwrite the newer)."""
    column = row.payload[COLUMN_KEY]
    container = row.lineitem_url.split(COLUMN_MARK, 1)[0]
    url = find_or_create_lineitem(session, platform, client, container, column)
    newer = session.scalar(select(OutboxScore.id).where(
        OutboxScore.platform_id == row.platform_id, OutboxScore.lineitem_url == url,
        OutboxScore.user_id == row.user_id, OutboxScore.timestamp >= row.timestamp).limit(1))
    # Later launches of the link use the column directly.
    for launch in session.scalars(select(Launch).where(Launch.platform_id == row.platform_id,
                                                       Launch.resource_link_id == column["resourceLinkId"])):
        if needs_lineitem(launch) and launch.ags.get("lineitems") == container:
            launch.ags = {**launch.ags, "lineitem": url}
    if newer is not None:
        return False
    row.lineitem_url = url
    row.payload = {k: v for k, v in row.payload.items() if k != COLUMN_KEY}
    return True


# --- the worker -------------------------------------------------------------------------------------


@dataclass
class OutboxPolicy:
    lease_seconds: int = 60  # a worker killed mid-delivery frees its rows after this
    base_delay: float = 2.0  # first retry after this many seconds, doubling up to max_delay
    max_delay: float = 600.0
    max_attempts: int = 50  # then the score is marked failed (teachers see it)
    batch: int = 50


def claim(session: Session, policy: OutboxPolicy, limit: int) -> list[OutboxScore]:
    """Lease due rows: the earliest pending score per user and line item, so timestamps arrive in order."""
    t = now()
    earlier = aliased(OutboxScore)
    candidates = session.scalars(
        select(OutboxScore.id)
        .where(OutboxScore.status == "pending", OutboxScore.next_attempt_at <= t, OutboxScore.lease_until < t)
        .where(~exists().where(and_(earlier.status == "pending", earlier.platform_id == OutboxScore.platform_id,
                                    earlier.lineitem_url == OutboxScore.lineitem_url,
                                    earlier.user_id == OutboxScore.user_id, earlier.timestamp < OutboxScore.timestamp)))
        .order_by(OutboxScore.id).limit(limit)).all()
    claimed = []
    for row_id in candidates:
        result = session.execute(update(OutboxScore)
                                 .where(OutboxScore.id == row_id, OutboxScore.status == "pending",
                                        OutboxScore.lease_until < t)
                                 .values(lease_until=t + policy.lease_seconds))
        session.commit()
        if result.rowcount == 1:
            claimed.append(row_id)
    return [session.get(OutboxScore, row_id) for row_id in claimed]


def retry_delay(policy: OutboxPolicy, attempts: int) -> int:
    """Seconds before the next try after `attempts` failed ones: base, 2×base, 4×base … up to max_delay."""
    return max(1, int(round(min(policy.max_delay, policy.base_delay * 2 ** (attempts - 1)))))


def deliver(session: Session, row: OutboxScore, client: OutboundClient, policy: OutboxPolicy) -> str:
    """Send one score; record the outcome. Returns the new status."""
    platform = session.get(Platform, row.platform_id)
    try:
        if COLUMN_MARK in row.lineitem_url and not resolve_column(session, platform, row, client):
            row.status, row.delivered_at = "superseded", now()
            row.last_error = "a later score of this learner was already queued for the new line item"
            row.lease_until = 0
            session.commit()
            return row.status
        response = service_request(session, platform, [SCORE_SCOPE], client, "POST", scores_url(row.lineitem_url),
                                   content=json.dumps(row.payload).encode(),
                                   headers={"Content-Type": SCORE_TYPE, "Accept": "application/json"})
        code = response.status_code
        if code in (200, 201, 202, 204) or code == 409:
            row.status, row.delivered_at = "delivered", now()
            row.last_error = "" if code != 409 else "409: the platform already had this score"
        elif code in (408, 429) or code >= 500 or code == 401:
            raise ServiceError(f"{code}: {response.text[:200]}")
        else:
            row.status, row.last_error = "failed", f"{code}: {response.text[:300]}"
    except ServiceError as exc:
        row.attempts += 1
        row.last_error = str(exc)[:500]
        if not exc.retry or row.attempts >= policy.max_attempts:
            row.status = "failed"
        else:
            row.next_attempt_at = now() + retry_delay(policy, row.attempts)
    row.lease_until = 0
    session.commit()
    return row.status


def run_once(factory: sessionmaker, client: OutboundClient, policy: OutboxPolicy) -> int:
    with factory() as session:
        rows = claim(session, policy, policy.batch)
        for row in rows:
            try:
                deliver(session, row, client, policy)
            except Exception:  # a bug must not stop the worker; the lease frees the row later
                log.exception("delivering score %s failed", row.id)
                session.rollback()
        return len(rows)


def housekeeping(factory: sessionmaker, keep_seconds: int = 3600) -> int:
    """Forget login states an hour after they expired (a replay of one is refused as unknown anyway)."""
    from sqlalchemy import delete

    from .db import LoginState

    with factory() as session:
        result = session.execute(delete(LoginState).where(LoginState.expires_at < now() - keep_seconds))
        session.commit()
        return result.rowcount


class Worker:
    """Delivers the outbox until stopped; runs in a thread of the app or alone (`course lti worker`)."""

    def __init__(self, factory: sessionmaker, outbound: OutboundPolicy, policy: OutboxPolicy | None = None,
                 idle: float = 0.5):
        self.factory, self.policy, self.idle = factory, policy or OutboxPolicy(), idle
        self.client = OutboundClient(outbound)
        self.stop_event = threading.Event()
        self.wake_event = threading.Event()
        self.thread: threading.Thread | None = None

    def run(self) -> None:
        last_housekeeping = 0.0
        while not self.stop_event.is_set():
            if now() - last_housekeeping >= 60:
                last_housekeeping = now()
                try:
                    housekeeping(self.factory)
                except Exception:
                    log.exception("housekeeping failed")
            try:
                done = run_once(self.factory, self.client, self.policy)
            except Exception:
                log.exception("outbox worker pass failed")
                done = 0
            if not done:
                self.wake_event.wait(self.idle)
                self.wake_event.clear()

    def wake(self) -> None:
        self.wake_event.set()

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="lti-outbox", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.wake_event.set()
        if self.thread:
            self.thread.join(timeout=10)
        self.client.close()
