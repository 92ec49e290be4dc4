"""The tool's storage: one SQLAlchemy schema for SQLite (default, WAL) and PostgreSQL (several instances).

Times are stored as integer Unix seconds (UTC): comparable in SQL on both databases, and score
timestamps must be whole seconds anyway (Moodle compares them in seconds).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from sqlalchemy import (JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
                        create_engine, event, select)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def now() -> int:
    return int(time.time())


class Base(DeclarativeBase):
    pass


class ToolSecret(Base):
    """HMAC key for state cookies and CSRF tokens, shared by every instance on the same database."""

    __tablename__ = "tool_secret"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class ToolKey(Base):
    """The tool's RS256 signing keys: one active, one next (published ahead of rotation), old ones retired."""

    __tablename__ = "tool_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_jwk: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | next | retired
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    activated_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Platform(Base):
    __tablename__ = "platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    jwks_url: Mapped[str] = mapped_column(String(1000))
    token_audience: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # default: auth_token_url
    trusted_audiences: Mapped[list] = mapped_column(JSON, default=list)  # extra `aud` values we accept
    jwks: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # cached platform key set
    jwks_fetched_at: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Deployment(Base):
    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(200))


class LoginState(Base):
    """One OIDC login in progress; its nonce is used at most once (consumed by a conditional UPDATE)."""

    __tablename__ = "login_states"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    target_link_uri: Mapped[str] = mapped_column(String(2000))
    login_params: Mapped[dict] = mapped_column(JSON)  # to restart the login in a new window
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    consumed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Launch(Base):
    """A validated launch; its random id is the capability the module page uses to reach its state."""

    __tablename__ = "launches"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(200))
    message_type: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(300), default="")
    roles: Mapped[list] = mapped_column(JSON)
    context_id: Mapped[str] = mapped_column(String(255), default="")
    context_title: Mapped[str] = mapped_column(String(500), default="")
    context_label: Mapped[str] = mapped_column(String(255), default="")  # Moodle: the course's short name
    resource_link_id: Mapped[str] = mapped_column(String(255), default="")
    module_id: Mapped[str] = mapped_column(String(200), default="")
    task_id: Mapped[str] = mapped_column(String(200), default="")
    ags: Mapped[dict] = mapped_column(JSON, default=dict)  # the AGS endpoint claim
    nrps_url: Mapped[str] = mapped_column(String(1000), default="")
    deep_linking: Mapped[dict] = mapped_column(JSON, default=dict)  # deep_linking_settings claim
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)


class Progress(Base):
    """A learner's answers and progress in one module placement (user + resource link)."""

    __tablename__ = "progress"
    __table_args__ = (UniqueConstraint("platform_id", "resource_link_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255), default="")
    module_id: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str | None] = mapped_column(Text, nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    completion: Mapped[str] = mapped_column(String(16), default="incomplete")
    success: Mapped[str] = mapped_column(String(16), default="unknown")
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    interactions: Mapped[list] = mapped_column(JSON, default=list)
    # feedback: immediate — answers already checked in the open attempt (question id → answer); they stand.
    checked: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # item pools (quiz draw:): the question ids the open attempt asks, drawn by the tool
    drawn: Mapped[list | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class ProgressChange(Base):
    """The audit trail of a progress row: one row per write that changed (or was refused to lower) what the
    gradebook sees, with who wrote it from which launch (lti/progress.py)."""

    __tablename__ = "progress_changes"
    __table_args__ = (Index("ix_progress_changes_learner", "platform_id", "resource_link_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))  # the learner whose row changed
    actor_id: Mapped[str] = mapped_column(String(255))  # who wrote: the launch's user
    launch_id: Mapped[str] = mapped_column(String(64))  # not a foreign key: the trail outlives old launches
    source: Mapped[str] = mapped_column(String(16))  # state (the page's save) | attempt (a graded quiz attempt)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field → [before, after]
    kept: Mapped[dict] = mapped_column(JSON, default=dict)  # field → [stored, offered lower value]: refused
    gradebook: Mapped[float | None] = mapped_column(Float, nullable=True)  # the score this write queued, if any
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class QuizAttempt(Base):
    """A submitted quiz attempt, graded by the tool (course_builder.scoring) from the answers sent.

    scored_by "browser": carried over by migration 0002 from the time the page sent its own score; such
    a row stands for attempts 1…number with that score as the best, its answers unknown."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("platform_id", "resource_link_id", "user_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    module_id: Mapped[str] = mapped_column(String(200), default="")
    quiz_id: Mapped[str] = mapped_column(String(200), default="")
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, …: unique, so a double submit cannot pass the limit
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # question id → answer, as the runtime sent it
    score: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0–100; None: nothing auto-graded
    review: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # question id → what the learner may see
    scored_by: Mapped[str] = mapped_column(String(16), default="tool")  # tool | browser (before 0002)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class OutboxScore(Base):
    """A score to deliver; unique per user, line item and timestamp, so a re-delivery is recognisable."""

    __tablename__ = "grade_outbox"
    __table_args__ = (UniqueConstraint("platform_id", "lineitem_url", "user_id", "timestamp"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    lineitem_url: Mapped[str] = mapped_column(String(1000))
    user_id: Mapped[str] = mapped_column(String(255))
    timestamp: Mapped[int] = mapped_column(BigInteger)  # whole seconds, strictly increasing per user+line item
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|delivered|failed|superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    lease_until: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AccessToken(Base):
    __tablename__ = "access_tokens"
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True)
    scopes: Mapped[str] = mapped_column(String(1000), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class RosterMember(Base):
    """A course member from the platform's roster (NRPS) or a teacher's CSV."""

    __tablename__ = "roster"
    __table_args__ = (UniqueConstraint("platform_id", "context_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(300), default="")
    username: Mapped[str] = mapped_column(String(300), default="")
    roles: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="Active")
    region: Mapped[str] = mapped_column(String(200), default="")  # network or region, for balancing groups
    group_name: Mapped[str] = mapped_column(String(100), default="")
    synced_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Registration(Base):
    """A pending or finished LTI Dynamic Registration, for the admin's record."""

    __tablename__ = "registrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class RegistrationToken(Base):
    """A one-time permission for a dynamic registration, made by an administrator (`course lti register
    --dynamic`). Only its SHA-256 is stored; it is used up by a conditional UPDATE, so once, also when
    several requests or instances race."""

    __tablename__ = "registration_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")  # what the administrator made it for


# --- engine -------------------------------------------------------------------------


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, connections: int = 1) -> Engine:
    """connections: SQLite connections per process. One is fastest for request handling: threads then
    queue on the pool (a cheap wait) instead of on SQLite's lock, whose busy handler sleeps up to
    100 ms at a time. Code that holds a session across slow network calls (the outbox worker) gets
    an engine of its own."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                               pool_size=connections, max_overflow=0, pool_timeout=60)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (several instances may race: Alembic's
    version table plus idempotent revisions keep that safe enough for a start-up)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def tool_secret(session: Session) -> bytes:
    row = session.scalar(select(ToolSecret).where(ToolSecret.id == 1))
    if row is None:
        session.add(ToolSecret(id=1, value=secrets.token_hex(32)))
        try:
            session.commit()
        except Exception:  # another instance created it first
            session.rollback()
        row = session.scalar(select(ToolSecret).where(ToolSecret.id == 1))
    return bytes.fromhex(row.value)
