"""`course serve` and `course lti …`: run the tool, register platforms, rotate keys, run the outbox worker."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from .config import Settings


def _settings(url: str | None, data: str | None, database: str | None, **extra) -> Settings:
    return Settings.from_env(base_url=url, data_dir=Path(data) if data else None, database_url=database, **extra)


def _session(settings: Settings):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from .db import make_engine, migrate, sessions, tool_secret

    try:
        engine = make_engine(settings.db_url)
        migrate(engine)
        factory = sessions(engine)
        with factory() as session:
            settings.secret = tool_secret(session)
    except (DBAPIError, ArgumentError, OSError) as exc:
        # An unreachable server, a wrong URL or an unwritable folder: the admin's to fix, not a bug.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        try:
            shown = make_url(settings.db_url).render_as_string(hide_password=True)
        except ArgumentError:
            shown = "the given URL"
        raise click.ClickException(f"cannot open the database {shown}: {reason}\n"
                                   "Check --database (or COURSE_LTI_DATABASE) and --data.") from None
    return factory


def load_course(course_dir: Path):
    from course_builder import check
    from course_builder.diagnostics import format_text
    from course_builder.loader import NotACourse

    try:
        course, diagnostics = check(course_dir)
    except NotACourse as exc:
        raise click.UsageError(str(exc)) from None
    if any(d.is_error for d in diagnostics):
        sys.stderr.write(format_text([d for d in diagnostics if d.is_error], color=False))
        raise click.ClickException("the course has errors; fix them before serving it (see 'course check')")
    return course


data_option = click.option("--data", envvar="COURSE_LTI_DATA", default="lti-data", show_default=True,
                           help="data folder (SQLite database)")
database_option = click.option("--database", envvar="COURSE_LTI_DATABASE", default=None,
                               help="database URL, e.g. postgresql://user@host/db (default: SQLite in --data)")
url_option = click.option("--url", envvar="COURSE_LTI_URL", default=None,
                          help="the tool's public URL as platforms reach it, e.g. https://lti.example.org")
dev_option = click.option("--dev", is_flag=True, envvar="COURSE_LTI_DEV",
                          help="loopback development mode: requests to platforms may go to 127.0.0.1/::1 and use "
                               "plain http (implied by a loopback http --url)")


def _networks(ctx, param, value: str | None) -> str | None:
    from .outbound import networks

    try:
        networks(value or "")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


allow_networks_option = click.option(
    "--allow-networks", envvar="COURSE_LTI_ALLOW_NETWORKS", default=None, callback=_networks, metavar="CIDR,…",
    help="private networks the tool may send requests to (a platform in the same intranet), e.g. 10.20.0.0/16")


def _dev_warning(settings: Settings) -> None:
    if settings.dev and not settings.loopback_http:
        click.echo("warning: development mode (--dev): the tool sends requests to loopback addresses and over "
                   "plain http; never use it for a tool that platforms on other machines reach", err=True)


@click.command()
@click.argument("course_dir", default=".", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int,
              help="default: the port of a loopback http --url (e.g. http://127.0.0.1:8090), else 8000")
@url_option
@data_option
@database_option
@click.option("--workers", default=1, show_default=True, type=int, help="uvicorn worker processes")
@click.option("--no-worker", is_flag=True, help="do not deliver grades in this process (run 'course lti worker')")
@dev_option
@allow_networks_option
def serve(course_dir, host, port, url, data, database, workers, no_worker, dev, allow_networks):
    """Serve the course's modules as an LTI 1.3 tool."""
    import uvicorn

    load_course(Path(course_dir))  # fail early, with the diagnostics, before starting workers
    if port is None:
        # `--url http://127.0.0.1:8090` alone must not listen on 8000 while telling platforms 8090.
        given = Settings(base_url=url, data_dir=Path(data)) if url else None
        port = (urlsplit(given.base_url).port or 80) if given and given.loopback_http else 8000
    os.environ.update({"COURSE_LTI_URL": url or f"http://{host}:{port}", "COURSE_LTI_DATA": str(data),
                       "COURSE_LTI_COURSE": str(Path(course_dir).resolve()),
                       "COURSE_LTI_WORKER": "0" if no_worker else "1"})
    if database:
        os.environ["COURSE_LTI_DATABASE"] = database
    if dev:
        os.environ["COURSE_LTI_DEV"] = "1"
    if allow_networks:
        os.environ["COURSE_LTI_ALLOW_NETWORKS"] = allow_networks
    settings = _settings(os.environ["COURSE_LTI_URL"], data, database, dev=dev or None,
                         allow_networks=allow_networks)
    _dev_warning(settings)
    if not settings.https and not settings.loopback_http:
        click.echo("warning: launches from an LMS on another site need the tool on HTTPS (cookies are "
                   "SameSite=None; Secure); plain http works on 127.0.0.1/localhost only", err=True)
    _session(settings)  # migrate once, before the workers start
    click.echo(f"LTI tool for {Path(course_dir).resolve()} at {os.environ['COURSE_LTI_URL']}", err=True)
    uvicorn.run("lti.asgi:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False, proxy_headers=True)


@click.group()
def lti():
    """Manage the LTI 1.3 tool: platforms, keys, grade delivery."""


@lti.command()
@url_option
@data_option
@database_option
@click.option("--issuer", help="the platform's issuer (Moodle: its wwwroot, e.g. https://moodle.example.org)")
@click.option("--client-id")
@click.option("--deployment-id", "deployment_ids", multiple=True, help="repeatable")
@click.option("--moodle", "moodle_url", help="a Moodle wwwroot: fills issuer and Moodle's endpoint URLs")
@click.option("--login-url", help="the platform's authentication request URL")
@click.option("--token-url", help="the platform's access token URL")
@click.option("--jwks-url", help="the platform's public keyset URL")
@click.option("--token-audience", default=None, help="aud of our token requests (default: the token URL)")
@click.option("--name", default="", help="the platform's name (with --dynamic: a note on what the URL is for)")
@click.option("--dynamic", is_flag=True, help="make a one-time URL for the platform's dynamic registration")
@click.option("--valid-for", default="24h", show_default=True, metavar="DURATION",
              help="how long the --dynamic URL can be used: e.g. 30m, 24h, 7d")
def register(url, data, database, issuer, client_id, deployment_ids, moodle_url, login_url, token_url, jwks_url,
             token_audience, name, dynamic, valid_for):
    """Print the tool's URLs for the platform; with the platform's details, store its registration;
    with --dynamic, make a one-time registration URL for the platform (LTI Dynamic Registration)."""
    settings = _settings(url, data, database)
    if dynamic:
        return _dynamic_registration_url(settings, valid_for, name)
    if moodle_url:
        root = moodle_url.rstrip("/")
        issuer = issuer or root
        login_url = login_url or f"{root}/mod/lti/auth.php"
        token_url = token_url or f"{root}/mod/lti/token.php"
        jwks_url = jwks_url or f"{root}/mod/lti/certs.php"
    click.echo("Enter these in the platform (Moodle: Site administration > Plugins > Activity modules > "
               "External tool > Manage tools > configure a tool manually):")
    for label, path in (("Tool URL", "/lti/launch"), ("LTI version", None), ("Public key type", None),
                        ("Public keyset", "/.well-known/jwks.json"), ("Initiate login URL", "/lti/login"),
                        ("Redirection URI(s)", "/lti/launch"), ("Content Selection URL", "/lti/launch")):
        value = settings.url(path) if path else {"LTI version": "LTI 1.3", "Public key type": "Keyset URL"}[label]
        click.echo(f"  {label + ':':26} {value}")
    click.echo("(For dynamic registration make a one-time URL: course lti register --dynamic)")
    given = [issuer, client_id, login_url, token_url, jwks_url]
    if not any(given) and not deployment_ids:
        return
    if not all(given) or not deployment_ids:
        raise click.UsageError("to store a platform give --issuer (or --moodle), --client-id, --deployment-id, "
                               "--login-url, --token-url and --jwks-url")
    from .platforms import PlatformExists, add_deployments, endpoint_changes, register_platform

    factory = _session(settings)
    with factory() as session:
        try:
            platform = register_platform(session, issuer=issuer, client_id=client_id, auth_login_url=login_url,
                                         auth_token_url=token_url, jwks_url=jwks_url,
                                         deployment_ids=list(deployment_ids), name=name, token_audience=token_audience)
        except PlatformExists as exc:
            known = exc.platform
            changes = endpoint_changes(known, auth_login_url=login_url, auth_token_url=token_url, jwks_url=jwks_url,
                                       token_audience=token_audience)
            if changes:
                raise click.ClickException(
                    f"{known.issuer} (client {known.client_id}) is registered already with other URLs "
                    f"({', '.join(changes)}); registering never changes them: use 'course lti update-platform'")
            added = add_deployments(session, known, list(deployment_ids))
            click.echo(f"platform {known.issuer} (client {known.client_id}) is registered already; "
                       f"deployments added: {', '.join(added) or 'none'}")
            return
        click.echo(f"stored platform {platform.issuer} (client {platform.client_id}, "
                   f"deployments {', '.join(deployment_ids)})")


DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> int:
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in DURATION_UNITS or not value.isdigit() or int(value) <= 0:
        raise click.BadParameter(f"{text!r}: give a number with m, h or d, e.g. 30m, 24h, 7d", param_hint="--valid-for")
    return int(value) * DURATION_UNITS[unit]


def _dynamic_registration_url(settings: Settings, valid_for: str, note: str) -> None:
    import datetime as dt

    from .registration import new_token

    lifetime = _seconds(valid_for)
    if not os.environ.get("COURSE_LTI_URL") and settings.loopback_http:
        click.echo(f"warning: no --url given: {settings.base_url} is reachable from this machine only", err=True)
    factory = _session(settings)
    with factory() as session:
        token = new_token(session, lifetime, note)
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=lifetime)
    click.echo("Paste this URL into the platform (Moodle: Site administration > Plugins > Activity modules > "
               "External tool > Manage tools > Tool URL, then 'Add LTI Advantage'):")
    click.echo(f"  {settings.url('/lti/register/' + token)}")
    click.echo(f"It works once, until {until:%Y-%m-%d %H:%M} UTC. Keep it secret: whoever has it can register a "
               "platform with this tool.")


@lti.command("registration-urls")
@data_option
@database_option
@click.option("--revoke", "revoke_ids", type=int, multiple=True, metavar="ID", help="make a URL unusable (repeatable)")
def registration_urls(data, database, revoke_ids):
    """List the one-time registration URLs made with 'register --dynamic' (the tokens themselves are not
    stored, so not shown); --revoke makes unused ones unusable."""
    import datetime as dt

    from sqlalchemy import select, update

    from .db import RegistrationToken, now

    factory = _session(_settings(None, data, database))
    with factory() as session:
        for token_id in revoke_ids:
            done = session.execute(update(RegistrationToken).where(RegistrationToken.id == token_id,
                                                                   RegistrationToken.used_at.is_(None))
                                   .values(expires_at=0)).rowcount
            click.echo(f"{token_id}: {'revoked' if done else 'no unused registration URL with this id'}")
        session.commit()

        def when(seconds: int) -> str:
            return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

        for row in session.scalars(select(RegistrationToken).order_by(RegistrationToken.id)):
            state = (f"used {when(row.used_at)}" if row.used_at is not None else "revoked" if row.expires_at == 0
                     else f"expired {when(row.expires_at)}" if row.expires_at < now()
                     else f"usable until {when(row.expires_at)}")
            click.echo(f"{row.id:4}  made {when(row.created_at)}  {state}" + (f"  ({row.note})" if row.note else ""))


@lti.command("update-platform")
@data_option
@database_option
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--jwks-url", help="the platform's new public keyset URL")
@click.option("--login-url", help="the platform's new authentication request URL")
@click.option("--token-url", help="the platform's new access token URL")
@click.option("--token-audience", help="the new aud of our token requests")
@click.option("--yes", is_flag=True, help="do not ask for confirmation (scripts)")
def update_platform(data, database, issuer, client_id, jwks_url, login_url, token_url, token_audience, yes):
    """Change a registered platform's key-set URL or endpoints (after a confirmation)."""
    from .platforms import endpoint_changes, find_platform, update_platform as apply

    factory = _session(_settings(None, data, database))
    with factory() as session:
        platform = find_platform(session, issuer, client_id)
        if platform is None:
            raise click.ClickException(f"no platform {issuer} with client id {client_id} is registered "
                                       "(see 'course lti platforms')")
        changes = endpoint_changes(platform, auth_login_url=login_url, auth_token_url=token_url, jwks_url=jwks_url,
                                   token_audience=token_audience)
        if not changes:
            click.echo("nothing to change")
            return
        for field, (old, new) in changes.items():
            click.echo(f"  {field}: {old} -> {new}")
        if "jwks_url" in changes:
            click.echo("Launches will be verified with the keys at the new key-set URL: whoever controls it can sign "
                       "launches for this platform.")
        if not yes and not click.confirm("Apply these changes?", default=False):
            raise click.ClickException("nothing changed")
        apply(session, platform, changes)
        click.echo(f"updated platform {platform.issuer} (client {platform.client_id})")


@lti.command()
@data_option
@database_option
@click.option("--verbose", "-v", is_flag=True, help="also the platforms' key-set, login and token URLs")
def platforms(data, database, verbose):
    """List the registered platforms."""
    from sqlalchemy import select

    from .db import Deployment, Platform

    factory = _session(_settings(None, data, database))
    with factory() as session:
        for platform in session.scalars(select(Platform).order_by(Platform.id)):
            deployments = session.scalars(select(Deployment.deployment_id).where(Deployment.platform_id == platform.id)
                                          .order_by(Deployment.id))
            click.echo(f"{platform.issuer}  client {platform.client_id}  deployments {', '.join(deployments)}")
            if verbose:
                for label, value in (("key set", platform.jwks_url), ("login", platform.auth_login_url),
                                     ("token", platform.auth_token_url), ("token audience", platform.token_audience)):
                    if value:
                        click.echo(f"    {label + ':':15} {value}")


@lti.command()
@data_option
@database_option
@click.option("--rotate", is_flag=True, help="make the next key active and publish a new next key")
def keys(data, database, rotate):
    """Show the tool's keys (active and next are in the JWKS); --rotate rotates them."""
    from sqlalchemy import select

    from . import keys as keys_mod
    from .db import ToolKey

    factory = _session(_settings(None, data, database))
    with factory() as session:
        keys_mod.ensure_keys(session)
        if rotate:
            click.echo(f"active key is now {keys_mod.rotate(session)}")
        for row in session.scalars(select(ToolKey).where(ToolKey.status != "retired").order_by(ToolKey.status)):
            click.echo(f"{row.status:7} {row.kid}")


@lti.command()
@url_option
@data_option
@database_option
@dev_option
@allow_networks_option
@click.option("--once", is_flag=True, help="deliver what is due, then stop")
@click.option("--timeout", default=5.0, show_default=True, help="seconds for each outbound request")
@click.option("--lease", default=60, show_default=True, help="seconds a claimed score stays reserved")
@click.option("--base-delay", default=2.0, show_default=True, help="first retry delay in seconds (doubles)")
def worker(url, data, database, dev, allow_networks, once, timeout, lease, base_delay):
    """Deliver scores from the outbox (for instances started with --no-worker)."""
    from . import ags
    from .outbound import OutboundClient, OutboundPolicy

    settings = _settings(url, data, database, dev=dev or None, allow_networks=allow_networks, http_timeout=timeout)
    _dev_warning(settings)
    factory = _session(settings)
    policy, outbound = ags.OutboxPolicy(lease_seconds=lease, base_delay=base_delay), OutboundPolicy.from_settings(settings)
    if once:
        with OutboundClient(outbound) as client:
            while ags.run_once(factory, client, policy):
                pass
        return
    runner = ags.Worker(factory, outbound, policy)
    click.echo("outbox worker running; Ctrl-C stops it", err=True)
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
