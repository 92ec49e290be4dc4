"""The `course` command."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

import click

from . import __version__
from . import check as check_course
from . import diagnostics as diag_mod

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMATS = ["text", "json", "sarif", "github"]


def _course_dir(value: str) -> Path:
    return Path(value)


def _load(course_dir: Path):
    from .loader import NotACourse

    try:
        return check_course(course_dir)
    except NotACourse as exc:
        raise click.UsageError(str(exc)) from None


def _emit(diagnostics, fmt: str, stream) -> None:
    if fmt == "json":
        stream.write(diag_mod.format_json(diagnostics))
    elif fmt == "sarif":
        stream.write(diag_mod.format_sarif(diagnostics, __version__))
    elif fmt == "github":
        stream.write(diag_mod.format_github(diagnostics))
    else:
        stream.write(diag_mod.format_text(diagnostics, color=stream.isatty() and "NO_COLOR" not in os.environ))


def _failed(diagnostics, strict: bool) -> bool:
    return any(d.is_error or strict for d in diagnostics)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="course")
def cli() -> None:
    """Validate a course written as text files and compile it for Moodle."""


@cli.command()
@click.argument("course_dir", default=".", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for tools, sarif or github for CI annotations")
@click.option("--strict", is_flag=True, help="treat warnings as errors")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="write the report to a file instead of stdout")
def check(course_dir: str, fmt: str, strict: bool, output: str | None) -> None:
    """Check a course and report every problem at once.

    Exit status: 0 clean (warnings allowed), 1 errors (or warnings with --strict), 2 usage or I/O problem.
    """
    _, diagnostics = _load(_course_dir(course_dir))
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                _emit(diagnostics, fmt, fh)
        except OSError as exc:
            raise click.FileError(output, exc.strerror) from None
    else:
        _emit(diagnostics, fmt, sys.stdout)
    sys.exit(EXIT_ERRORS if _failed(diagnostics, strict) else EXIT_OK)


@cli.command()
@click.argument("course_dir", default=".", type=click.Path(file_okay=False))
@click.option("--target", "-t", "target_names", multiple=True, metavar="NAME",
              help="target or group to build (repeatable); default: all. See 'course targets'.")
@click.option("--out", "-o", default="build", show_default=True, type=click.Path(file_okay=False),
              help="folder for the outputs; each target writes <out>/<target>/")
@click.option("--strict", is_flag=True, help="treat warnings as errors")
@click.option("--option", "-O", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="an option for the targets that read it (repeatable), e.g. -O participants=24")
@click.option("--moodle-delivery", type=click.Choice(["scorm", "native"]), default=None,
              help="moodle-backup: modules as SCORM 1.2 activities (default) or as Pages plus a Quiz")
def build(course_dir: str, target_names: tuple[str, ...], out: str, strict: bool, option_pairs: tuple[str, ...],
          moodle_delivery: str | None) -> None:
    """Check the course, then build the targets (nothing is built if the check finds errors)."""
    from . import targets
    from .build import build as run_build
    from .cache import Cache, default_dir

    extra = _options(option_pairs)
    if moodle_delivery:
        extra["moodle-delivery"] = moodle_delivery
    _log_target_warnings()

    try:
        wanted = targets.expand(list(target_names) or targets.names())
    except KeyError as exc:
        raise click.UsageError(f"unknown target {exc}; known: {', '.join(targets.names() + sorted(targets.GROUPS))}") from None
    started = time.perf_counter()
    course, diagnostics = _load(_course_dir(course_dir))
    if diagnostics:
        _emit(diagnostics, "text", sys.stderr)
    if _failed(diagnostics, strict):
        click.echo("build stopped: fix the errors above first", err=True)
        sys.exit(EXIT_ERRORS)
    try:
        written = run_build(course, wanted, Path(out), targets.BuildOptions(extra=extra), cache=Cache(default_dir(_course_dir(course_dir))))
    except targets.OptionError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        click.echo(f"error: cannot write {exc.filename or out}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_USAGE)
    for path in written:
        click.echo(f"built {path}")
    click.echo(f"{len(written)} target(s) in {time.perf_counter() - started:.2f} s")


def _options(pairs: tuple[str, ...]) -> dict:
    extra: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--option")
        extra[key.strip()] = value.strip()
    return extra


def _log_target_warnings() -> None:
    """Targets report what an output cannot hold through logging; show those warnings on stderr."""
    import logging

    logger = logging.getLogger("course_builder.targets")
    for handler in list(logger.handlers):
        if getattr(handler, "course_cli", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.course_cli = True
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


@cli.command("targets")
def list_targets() -> None:
    """List the output targets."""
    from . import targets

    for name in targets.names():
        click.echo(f"{name:14} {targets.get(name).description}")
    for group, members in sorted(targets.GROUPS.items()):
        click.echo(f"{group:14} group: {' + '.join(members)}")


@cli.group()
def new() -> None:
    """Create new course parts from templates."""


@new.command("module")
@click.argument("slug")
@click.option("--course", "course_dir", default=".", type=click.Path(file_okay=False), help="course folder")
@click.option("--title", default=None, help="module title (default: from the slug)")
def new_module(slug: str, course_dir: str, title: str | None) -> None:
    """Scaffold modules/NN-SLUG with a lesson, a quiz and a reflection task that pass 'course check'."""
    from .scaffold import ScaffoldError, new_module as scaffold

    try:
        created = scaffold(Path(course_dir), slug, title)
    except ScaffoldError as exc:
        raise click.UsageError(str(exc)) from None
    for path in created:
        click.echo(f"created {path}")


# The LTI tool lives in the `lti` package; these two commands hand their arguments over to it, so
# that `course check/build` never import the web stack.
_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@cli.command(context_settings=_PASS_THROUGH)
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Serve the modules as an LTI 1.3 tool (see 'course serve --help')."""
    from lti.cli import serve as command

    command.main(ctx.args, prog_name="course serve", standalone_mode=False)


@cli.command("lti", context_settings=_PASS_THROUGH)
@click.pass_context
def lti_group(ctx: click.Context) -> None:
    """LTI tool administration: register, platforms, keys, worker (see 'course lti --help')."""
    from lti.cli import lti as command

    command.main(ctx.args, prog_name="course lti", standalone_mode=False)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug in course_builder, not in the course: say so without a traceback
        if os.environ.get("COURSE_DEBUG"):
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc}\n"
                   "This is a bug in course_builder; set COURSE_DEBUG=1 for details and report it.", err=True)
        sys.exit(EXIT_INTERNAL)
