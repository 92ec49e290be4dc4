"""The launch path's storage as plain SQL on the pooled DBAPI connection.

A full launch touches the database four times: store the login, use it up together with storing the
launch, read the launch for the module page, read the learner's saved state when the page asks. Through the ORM these statements cost about 4 ms of a
launch's 6 ms in the tool (bench/bench_lti.py, profiled); as plain SQL on the same tables they cost
well under a millisecond. The tables stay defined once, in db.py (schema, migrations, every other
query); the column lists here are read from those definitions.

Statements are written with `:name` parameters, which SQLite's driver takes as they are and which are
rewritten once to `%(name)s` for psycopg (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import namedtuple
from collections.abc import Iterator

from sqlalchemy import JSON
from sqlalchemy.engine import Engine

from .db import Launch, LoginState, Platform, now


def _columns(model) -> list[str]:
    return [column.name for column in model.__table__.columns]


def _json_columns(model) -> set[str]:
    return {column.name for column in model.__table__.columns if isinstance(column.type, JSON)}


# Records with the same attribute names as the ORM classes, so code that only reads them takes either.
LoginRecord = namedtuple("LoginRecord", _columns(LoginState))
LaunchRecord = namedtuple("LaunchRecord", _columns(Launch))
PLATFORM_COLUMNS = _columns(Platform)
JSON_COLUMNS = {"login_states": _json_columns(LoginState), "launches": _json_columns(Launch),
                "platforms": _json_columns(Platform)}


def _insert(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


SQL = {
    "insert_login": _insert("login_states", LoginRecord._fields),
    "get_login": f"SELECT {', '.join(LoginRecord._fields)} FROM login_states WHERE state = :state",
    "nonce_used": "SELECT consumed_at FROM login_states WHERE nonce = :nonce AND consumed_at IS NOT NULL",
    # The conditional UPDATE is what makes a nonce usable once, even with several instances racing.
    "use_login": "UPDATE login_states SET consumed_at = :now WHERE state = :state AND nonce = :nonce "
                 "AND consumed_at IS NULL AND expires_at >= :now",
    "insert_launch": _insert("launches", LaunchRecord._fields),
    "get_launch": f"SELECT {', '.join(LaunchRecord._fields)} FROM launches WHERE id = :id",
    "saved_state": "SELECT location, state, checked, drawn FROM progress WHERE platform_id = :platform_id "
                   "AND resource_link_id = :resource_link_id AND user_id = :user_id",
    "attempts": "SELECT number, score, review FROM quiz_attempts WHERE platform_id = :platform_id "
                "AND resource_link_id = :resource_link_id AND user_id = :user_id ORDER BY number",
    "platforms": f"SELECT {', '.join(PLATFORM_COLUMNS)} FROM platforms ORDER BY id",
    "deployments": "SELECT platform_id, deployment_id FROM deployments",
    "store_jwks": "UPDATE platforms SET jwks = :jwks, jwks_fetched_at = :fetched WHERE id = :id",
}


class LaunchStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        pyformat = engine.dialect.paramstyle == "pyformat"
        self.sql = {name: re.sub(r":(\w+)", r"%(\1)s", text) if pyformat else text for name, text in SQL.items()}

    @contextlib.contextmanager
    def connection(self) -> Iterator:
        """A DBAPI connection from the engine's pool; committed by the caller, rolled back on return."""
        connection = self.engine.raw_connection()
        try:
            yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def _cursor(self, connection, name: str, params: dict | None = None) -> Iterator:
        cursor = connection.cursor()
        try:
            cursor.execute(self.sql[name], params or {})
            yield cursor
        finally:
            cursor.close()

    def _one(self, connection, name: str, params: dict):
        with self._cursor(connection, name, params) as cursor:
            return cursor.fetchone()

    def _execute(self, connection, name: str, params: dict) -> int:
        with self._cursor(connection, name, params) as cursor:
            return cursor.rowcount

    # --- logins and launches --------------------------------------------------------------

    def add_login(self, connection, **values) -> None:
        """Store a login in progress and commit: the platform's answer may reach another instance."""
        values = {"created_at": now(), "consumed_at": None, **values}
        values["login_params"] = json.dumps(values["login_params"])
        self._execute(connection, "insert_login", values)
        connection.commit()

    def login(self, connection, state: str) -> LoginRecord | None:
        row = self._one(connection, "get_login", {"state": state})
        return _record(LoginRecord, "login_states", row)

    def nonce_used(self, connection, nonce: str) -> bool:
        return self._one(connection, "nonce_used", {"nonce": nonce}) is not None

    def use_login(self, connection, state: str, nonce: str) -> bool:
        """Mark the login used (caller commits); False if it was used, expired or the nonce is not its own."""
        return self._execute(connection, "use_login", {"state": state, "nonce": nonce, "now": now()}) == 1

    def add_launch(self, connection, values: dict) -> None:
        row = {column: values.get(column) for column in LaunchRecord._fields}
        for column in JSON_COLUMNS["launches"]:
            row[column] = json.dumps(row[column] if row[column] is not None else {})
        self._execute(connection, "insert_launch", row)

    def launch(self, connection, launch_id: str) -> LaunchRecord | None:
        row = self._one(connection, "get_launch", {"id": launch_id})
        return _record(LaunchRecord, "launches", row)

    def saved_state(self, connection, launch: LaunchRecord) -> tuple[str | None, str | None, dict, list | None]:
        """(location, state, answers checked in the open attempt, questions it draws) the learner left in
        this placement, from any earlier launch or device."""
        row = self._one(connection, "saved_state", self._learner(launch))
        return (row[0], row[1], _json(row[2]) or {}, _json(row[3])) if row else (None, None, {}, None)

    def attempts(self, connection, launch: LaunchRecord) -> list[tuple[int, float | None, dict | None]]:
        """(number, score, review) of the learner's graded quiz attempts in this placement, in order."""
        with self._cursor(connection, "attempts", self._learner(launch)) as cursor:
            return [(int(number), score, _json(review)) for number, score, review in cursor.fetchall()]

    @staticmethod
    def _learner(launch: LaunchRecord) -> dict:
        return {"platform_id": launch.platform_id, "user_id": launch.user_id,
                "resource_link_id": launch.resource_link_id}

    # --- platforms ----------------------------------------------------------------------------

    def platforms(self, connection) -> tuple[list[dict], list[tuple[int, str]]]:
        with self._cursor(connection, "platforms") as cursor:
            platforms = [_decoded("platforms", dict(zip(PLATFORM_COLUMNS, row))) for row in cursor.fetchall()]
        with self._cursor(connection, "deployments") as cursor:
            deployments = [(int(platform_id), str(deployment)) for platform_id, deployment in cursor.fetchall()]
        connection.commit()  # PostgreSQL: end the read transaction before the connection idles
        return platforms, deployments

    def store_jwks(self, connection, platform_id: int, jwks: dict, fetched: int) -> None:
        self._execute(connection, "store_jwks", {"jwks": json.dumps(jwks), "fetched": fetched, "id": platform_id})
        connection.commit()


def _json(value):
    # SQLite hands JSON columns back as text, psycopg as Python values.
    return json.loads(value) if isinstance(value, str) else value


def _decoded(table: str, values: dict) -> dict:
    for column in JSON_COLUMNS[table]:
        values[column] = _json(values.get(column))
    return values


def _record(kind, table: str, row):
    if row is None:
        return None
    return kind(**_decoded(table, dict(zip(kind._fields, row))))

