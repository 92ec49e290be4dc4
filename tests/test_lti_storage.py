"""Storage: migrations, SQLite in WAL mode, the same behaviour on a real PostgreSQL server."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import select, text

from lti import ags, keys
from lti.db import Base, Launch, LoginState, OutboxScore, make_engine, migrate, now, sessions
from lti.platforms import add_deployments, endpoint_changes, find_platform, register_platform, update_platform
from lti.launchstore import LaunchStore
from lti.platforms import PlatformDirectory
from lti_harness import Tool
from lti_platform import MoodleLikePlatform
from lti_postgres import PostgresServer, binaries


@pytest.fixture(scope="module")
def postgres():
    if binaries() is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def migrated():
    """open(url, connections=1) -> (engine, session factory) on a migrated database; engines disposed after."""
    engines = []

    def open_database(url: str, connections: int = 1):
        engine = make_engine(url, connections=connections)
        migrate(engine)
        engines.append(engine)
        return engine, sessions(engine)

    yield open_database
    for engine in engines:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lti.sqlite3'}"
    return request.getfixturevalue("postgres").database("t" + uuid.uuid4().hex[:12])


def test_sqlite_uses_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_migrations_match_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # a second start changes nothing
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()


def _platform(factory):
    with factory() as session:
        return register_platform(session, issuer="https://moodle.test", client_id="c1", auth_login_url="https://m/a",
                                 auth_token_url="https://m/t", jwks_url="https://m/k", deployment_ids=["1"])


def test_nonce_is_consumed_exactly_once_under_concurrency(db_url, migrated):
    engine, factory = migrated(db_url, connections=8)  # eight connections race, as eight instances would
    platform = _platform(factory)
    with factory() as session:
        login = LoginState(state="s1", nonce="n1", platform_id=platform.id, target_link_uri="https://t/",
                           login_params={}, expires_at=now() + 60)
        session.add(login)
        session.commit()
    results, barrier = [], threading.Barrier(8, timeout=30)

    store = LaunchStore(engine)

    def race():
        with store.connection() as connection:
            row = store.login(connection, "s1")
            barrier.wait()
            ok = store.use_login(connection, row.state, "n1")
            connection.commit()
            results.append(ok)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False] * 7 + [True]


def test_outbox_rows_are_claimed_by_one_worker_only(db_url, migrated):
    _, factory = migrated(db_url, connections=4)
    platform = _platform(factory)
    with factory() as session:
        for user in range(20):
            launch = Launch(id=f"l{user}", platform_id=platform.id, deployment_id="1", message_type="x",
                            user_id=str(user), roles=[], ags={"lineitem": "https://m/li/1", "scope": [ags.SCORE_SCOPE]},
                            deep_linking={})
            session.add(launch)
            ags.enqueue(session, launch, 50, True)
        session.commit()
    claimed, barrier = [], threading.Barrier(4, timeout=30)
    policy = ags.OutboxPolicy()

    def worker():
        with factory() as session:
            barrier.wait()
            claimed.extend(row.id for row in ags.claim(session, policy, 20))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 20


def test_timestamps_strictly_increase_per_user_and_line_item(db_url, migrated):
    _, factory = migrated(db_url)
    platform = _platform(factory)
    with factory() as session:
        launch = Launch(id="l", platform_id=platform.id, deployment_id="1", message_type="x", user_id="u",
                        roles=[], ags={"lineitem": "https://m/li/1", "scope": [ags.SCORE_SCOPE]}, deep_linking={})
        session.add(launch)
        for score in (10, 20, 30, 40):  # within the same second
            ags.enqueue(session, launch, score, False)
            session.flush()
        session.commit()
        stamps = session.scalars(select(OutboxScore.timestamp).order_by(OutboxScore.id)).all()
    assert all(b > a for a, b in zip(stamps, stamps[1:]))


def test_key_rotation_publishes_next_before_use(db_url, migrated):
    _, factory = migrated(db_url)
    with factory() as session:
        keys.ensure_keys(session)
        published = [k["kid"] for k in keys.public_jwks(session)["keys"]]
        assert len(published) == 2
        active_before = keys.active_key(session).kid
        new_active = keys.rotate(session)
        assert new_active in published and new_active != active_before
        after = [k["kid"] for k in keys.public_jwks(session)["keys"]]
        assert active_before not in after and new_active in after and len(after) == 2
        assert all("d" not in k for k in keys.public_jwks(session)["keys"])  # never a private part


def test_platform_directory_sees_registrations_at_once_and_changes_within_max_age(db_url, migrated):
    engine, factory = migrated(db_url)
    first = _platform(factory)
    directory = PlatformDirectory(LaunchStore(engine), max_age=0.3)

    def ask(method, *args):
        with directory.store.connection() as connection:
            return getattr(directory, method)(connection, *args)

    assert [p.id for p in ask("find", "https://moodle.test", "c1")] == [first.id]
    with factory() as session:  # an administrator changes a URL (`course lti update-platform`)
        known = find_platform(session, "https://moodle.test", "c1")
        update_platform(session, known, endpoint_changes(known, auth_login_url="https://m/a2"))
    assert ask("get", first.id).auth_login_url == "https://m/a"  # a changed URL shows after max_age
    time.sleep(0.4)
    assert ask("get", first.id).auth_login_url == "https://m/a2"
    # Registered meanwhile by `course lti register` (another process): found with the first login at once.
    with factory() as session:
        second = register_platform(session, issuer="https://other.test", client_id="c2", auth_login_url="https://o/a",
                                   auth_token_url="https://o/t", jwks_url="https://o/k", deployment_ids=["7"])
        add_deployments(session, find_platform(session, "https://moodle.test", "c1"), ["1", "2"])
    assert [p.id for p in ask("find", "https://other.test", None)] == [second.id]
    assert ask("deployment_known", ask("get", first.id), "2")
    assert not ask("deployment_known", ask("get", first.id), "3")
    assert ask("find", "https://nowhere.test", None) == []


def test_full_launch_on_postgresql(postgres, tmp_path):
    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data", platform, database_url=postgres.database("launch"))
    try:
        launch_id, page = tool.play(tool.launch(custom={"module": "grundlagen"}))
        assert tool.counts()["launches"] == 1
    finally:
        tool.close()
        platform.stop()


def test_housekeeping_forgets_old_login_states(tmp_path, migrated):
    _, factory = migrated(f"sqlite:///{tmp_path / 'lti.sqlite3'}")
    platform = _platform(factory)
    with factory() as session:
        session.add(LoginState(state="old", nonce="n-old", platform_id=platform.id, target_link_uri="https://t/",
                               login_params={}, expires_at=now() - 7200))
        session.add(LoginState(state="new", nonce="n-new", platform_id=platform.id, target_link_uri="https://t/",
                               login_params={}, expires_at=now() + 600))
        session.commit()
    assert ags.housekeeping(factory) == 1
    with factory() as session:
        assert [s.state for s in session.scalars(select(LoginState))] == ["new"]
