"""The LTI 1.3 (LTI Advantage) tool: Moodle and other platforms launch the course's modules here.

Layout: `config` (settings), `db` (SQLAlchemy schema and engine), `keys` (the tool's RSA keys),
`platforms` (registrations and their JWKS), `security` (login and id_token checks), `ags` (grade
outbox and worker), `nrps` and `groups` (roster and project groups), `app` (the Starlette app).
Started with `course serve`; `course lti ...` manages registrations, keys and the worker.
"""
