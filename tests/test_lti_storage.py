"""Storage: migrations, SQLite in WAL mode, the same behaviour on a real PostgreSQL server."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import inspect, select, text

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
    store = LaunchStore(engine)

    def race(barrier):
        with store.connection() as connection:
            row = store.login(connection, "s1")
            barrier.wait()
            ok = store.use_login(connection, row.state, "n1")
            connection.commit()
            return ok

    assert sorted(in_threads(8, race)) == [False] * 7 + [True]


def in_threads(count: int, func) -> list:
    """func(barrier) in `count` threads at once (they meet at the barrier); their results."""
    results, barrier = [], threading.Barrier(count, timeout=30)
    threads = [threading.Thread(target=lambda: results.append(func(barrier))) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


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


def test_a_registration_token_is_used_once_under_concurrent_requests(db_url, tmp_path):
    # Eight requests with the same one-time URL at the same moment, over real sockets: one registers,
    # seven are refused before fetching anything (the token is used up by a conditional UPDATE).
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlencode

    import httpx

    platform = MoodleLikePlatform()
    tool = Tool(tmp_path / "data", database_url=None if db_url.startswith("sqlite") else db_url)
    platform.tool_socket_url = tool.server.url
    try:
        url = tool.server.url + tool.registration_path() + "?" + urlencode({
            "openid_configuration": platform.url + "/mod/lti/openid-configuration.php",
            "registration_token": platform.registration_token})
        barrier = threading.Barrier(8, timeout=30)

        def register() -> int:
            barrier.wait()
            return httpx.get(url, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(lambda _: register(), range(8)))
        assert statuses == [200] + [403] * 7
        assert platform.config_fetches == 1 and len(platform.registrations) == 1
        assert [p["client_id"] for p in tool.snapshot()] == [platform.client_id]
    finally:
        tool.close()
        platform.stop()


def test_a_registration_token_is_used_up_by_exactly_one_of_racing_sessions(db_url, migrated):
    # All eight see the token usable, then all try to use it at once: the conditional UPDATE lets one through.
    from lti.registration import new_token, token_usable, use_token

    _, factory = migrated(db_url, connections=8)
    with factory() as session:
        token = new_token(session, 600)

    def race(barrier):
        with factory() as session:
            usable = token_usable(session, token)
            session.commit()
            barrier.wait()
            return usable and use_token(session, token)

    assert sorted(in_threads(8, race)) == [False] * 7 + [True]
    with factory() as session:
        assert not token_usable(session, token)


def test_an_old_database_upgrades_with_its_platforms(db_url):
    # A database made before registration tokens existed (revision 0001) keeps its rows and gains the table.
    from alembic import command
    from alembic.config import Config
    from pathlib import Path

    import lti.db

    engine = make_engine(db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(lti.db.__file__).parent / "migrations"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO platforms (name, issuer, client_id, auth_login_url, auth_token_url, "
                                "jwks_url, trusted_audiences, jwks_fetched_at, created_at) VALUES ('M', "
                                "'https://moodle.test', 'c1', 'https://m/a', 'https://m/t', 'https://m/k', '[]', 0, 0)"))
        assert "registration_tokens" not in inspect(connection).get_table_names()
    migrate(engine)
    with engine.connect() as connection:
        assert "registration_tokens" in inspect(connection).get_table_names()
        assert connection.execute(text("SELECT issuer FROM platforms")).scalars().all() == ["https://moodle.test"]
    engine.dispose()
