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
from . import progress

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMATS = ["text", "json", "sarif", "github"]


def _course_dir(value: str) -> Path:
    return Path(value)


def _load(course_dir: Path, cache=None):
    from .loader import NotACourse

    try:
        return check_course(course_dir, cache=cache)
    except NotACourse as exc:
        raise click.UsageError(str(exc)) from None


def _emit(diagnostics, fmt: str, stream, verbose: bool = False) -> None:
    if fmt == "json":
        stream.write(diag_mod.format_json(diagnostics))
    elif fmt == "sarif":
        stream.write(diag_mod.format_sarif(diagnostics, __version__))
    elif fmt == "github":
        stream.write(diag_mod.format_github(diagnostics))
    else:
        stream.write(diag_mod.format_text(diagnostics, color=stream.isatty() and "NO_COLOR" not in os.environ,
                                          group_beyond=None if verbose else diag_mod.TEXT_WARNINGS_PER_CODE))


_VERBOSE = click.option("--verbose", "-v", is_flag=True,
                        help="list every warning; without it, text output counts warnings of one kind beyond "
                             f"{diag_mod.TEXT_WARNINGS_PER_CODE} and builds summarise what a target cannot hold")


def _failed(diagnostics, strict: bool) -> bool:
    return any(d.is_error or strict for d in diagnostics)


def _cache_options(command):
    """--no-cache and --cache-dir, shared by the commands that load a course (README: Cache)."""
    command = click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
                           help="cache folder [default: COURSE_DIR/.course-cache or $COURSE_CACHE_DIR]")(command)
    return click.option("--no-cache", is_flag=True, help="neither read nor write the cache")(command)


def _cache(course_dir: Path, no_cache: bool, cache_dir: str | None):
    from .cache import for_course

    return for_course(course_dir, no_cache=no_cache, cache_dir=Path(cache_dir) if cache_dir else None)


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
@click.option("--results", "results", multiple=True, metavar="PATH_OR_DB",
              help="attempts to judge the questions by (repeatable): the LTI tool's database (file or URL), "
                   "Moodle's quiz Responses or SCORM Interactions export (CSV/XLSX/ODS); see docs/results.md")
@_VERBOSE
@_cache_options
def check(course_dir: str, fmt: str, strict: bool, output: str | None, results: tuple[str, ...], verbose: bool,
          no_cache: bool, cache_dir: str | None) -> None:
    """Check a course and report every problem at once.

    Exit status: 0 clean (warnings allowed), 1 errors (or warnings with --strict), 2 usage or I/O problem.
    The json, sarif and github formats always hold every diagnostic.
    """
    _leave_fast()
    root = _course_dir(course_dir)
    with progress.Progress(1, progress.wanted(sys.stderr, fmt)) as shown:
        shown.step("checking the course")
        course, diagnostics = _load(root, _cache(root, no_cache, cache_dir))
    if results:
        diagnostics = diag_mod.sort_unique(diagnostics + _results_findings(course, results, cache_dir, no_cache))
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                _emit(diagnostics, fmt, fh, verbose)
        except OSError as exc:
            raise click.FileError(output, exc.strerror) from None
    else:
        _emit(diagnostics, fmt, sys.stdout, verbose)
    sys.exit(EXIT_ERRORS if _failed(diagnostics, strict) else EXIT_OK)


def _results_analysis(course, sources, cache_dir: str | None, quiz: str | None = None, which: str | None = None,
                      no_cache: bool = False):
    from .cache import default_dir
    from .results import ResultsError, analyse, load_attempts

    if course.spec is None:
        raise click.UsageError("course.yaml has errors; fix them before analysing results")
    limits = course.spec.checks.results
    try:
        # the pseudonym key lives in the cache folder; with --no-cache it is made afresh for this run
        key_dir = None if no_cache else Path(cache_dir) if cache_dir else default_dir(course.root)
        attempts = load_attempts(course, list(sources), key_dir, quiz)
    except ResultsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    return analyse(course, attempts, which or limits.which_attempts), limits


def _results_findings(course, sources, cache_dir, no_cache: bool):
    from .results.findings import findings

    analysis, limits = _results_analysis(course, sources, cache_dir, no_cache=no_cache)
    return [d for d in findings(analysis, limits) if d.code.id not in course.spec.checks.disable]


@cli.command()
@click.argument("sources", nargs=-1, required=True, metavar="PATH_OR_DB...")
@click.option("--course", "course_dir", default=".", type=click.Path(file_okay=False), help="course folder")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="file to write [default: stdout]")
@click.option("--format", "fmt", type=click.Choice(["html", "json"]), default="html", show_default=True)
@click.option("--quiz", default=None, help="the quiz an export belongs to, when it cannot be told from the export")
@click.option("--attempts", "which", type=click.Choice(["all", "first", "last", "best"]), default=None,
              help="attempts counted, as Moodle's 'attempts to include' [default: checks.results.which_attempts]")
@_cache_options
def report(sources: tuple[str, ...], course_dir: str, output: str | None, fmt: str, quiz: str | None,
           which: str | None, no_cache: bool, cache_dir: str | None) -> None:
    """Item analysis of real attempts (Moodle's statistics), linked back to the source lines.

    PATH_OR_DB: the LTI tool's database (SQLite file or SQLAlchemy URL), or Moodle's quiz Responses or
    SCORM Interactions report as CSV, XLSX or ODS. Nothing is written if a source does not fit the course.
    """
    from .atomic import write_atomically
    from .results.report import as_html, as_json

    root = _course_dir(course_dir)
    course, diagnostics = _load(root, _cache(root, no_cache, cache_dir))
    if any(d.is_error for d in diagnostics):
        _emit([d for d in diagnostics if d.is_error], "text", sys.stderr)
        click.echo("report stopped: fix the errors above first", err=True)
        sys.exit(EXIT_ERRORS)
    analysis, limits = _results_analysis(course, sources, cache_dir, quiz, which, no_cache)
    out_dir = Path(output).parent if output else Path.cwd()
    text = as_json(course, analysis) if fmt == "json" else as_html(course, analysis, out_dir, limits)
    if not output:
        sys.stdout.write(text)
        return
    try:
        write_atomically(Path(output), lambda fh: fh.write(text.encode("utf-8")))
    except OSError as exc:
        raise click.FileError(output, exc.strerror) from None
    click.echo(f"wrote {output}")


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
@click.option("--watch", "-w", is_flag=True,
              help="build again after every save until Ctrl-C; only what the edit touched is redone")
@_VERBOSE
@_cache_options
def build(course_dir: str, target_names: tuple[str, ...], out: str, strict: bool, option_pairs: tuple[str, ...],
          moodle_delivery: str | None, watch: bool, verbose: bool, no_cache: bool, cache_dir: str | None) -> None:
    """Check the course, then build the targets (nothing is built if the check finds errors).

    What an output cannot hold (e.g. hints in GIFT) is one warning line per kind; --verbose lists each.
    """
    _leave_fast()
    from . import targets
    from .build import build as run_build, check_options
    from .cache import gc_paused
    from .targets.notices import collected

    extra = _options(option_pairs)
    if moodle_delivery:
        extra["moodle-delivery"] = moodle_delivery

    try:
        wanted = targets.expand(list(target_names) or targets.names())
    except KeyError as exc:
        raise click.UsageError(f"unknown target {exc}; known: {', '.join(targets.names() + sorted(targets.GROUPS))}") from None
    if not target_names and "cc" in wanted:
        from .targets.cc import tool_url

        try:
            url = tool_url(targets.BuildOptions(extra=extra))
        except targets.OptionError as exc:
            raise click.UsageError(str(exc)) from None
        if url is None:
            # A plain `course build` must work without an LTI tool; asked for by name, cc refuses instead.
            wanted.remove("cc")
            click.echo("notice: cc skipped: no LTI tool URL (-O lti_url=https://… or COURSE_LTI_URL)", err=True)
    if watch:
        _build_watched(_course_dir(course_dir), wanted, Path(out), extra, strict, verbose, no_cache, cache_dir)
        return
    started = time.perf_counter()
    written: list[Path] = []
    with progress.Progress(1 + len(wanted), progress.wanted(sys.stderr)) as shown, collected() as notices:
        shown.step("checking the course")
        root = _course_dir(course_dir)
        cache = _cache(root, no_cache, cache_dir)
        course, diagnostics = _load(root, cache)
        if diagnostics:
            _emit(diagnostics, "text", sys.stderr, verbose)
        if _failed(diagnostics, strict):
            click.echo("build stopped: fix the errors above first", err=True)
            sys.exit(EXIT_ERRORS)
        try:
            check_options(wanted, targets.BuildOptions(extra=extra))  # all of them, before any target writes
            for name in wanted:  # one at a time, so that the progress display can name it
                shown.step(f"building {name}")
                with gc_paused():  # as the load: the model is large and a build makes hardly any garbage
                    written += run_build(course, [name], Path(out), targets.BuildOptions(extra=extra), cache=cache)
        except targets.OptionError as exc:
            raise click.UsageError(str(exc)) from None
        except OSError as exc:
            click.echo(f"error: cannot write {exc.filename or out}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_USAGE)
    for line in notices.lines(verbose):
        click.echo(line, err=True)
    for path in written:
        click.echo(f"built {path}")
    click.echo(f"{len(written)} target(s) in {time.perf_counter() - started:.2f} s")


def _build_watched(root: Path, wanted: list[str], out: Path, extra: dict, strict: bool, verbose: bool,
                   no_cache: bool, cache_dir: str | None) -> None:
    from . import targets
    from .build import build as run_build, check_options, finish_cleanup
    from .build_watch import WatchedBuild
    from .loader import NotACourse
    from .targets.notices import collected

    try:
        check_options(wanted, targets.BuildOptions(extra=extra))
    except targets.OptionError as exc:
        raise click.UsageError(str(exc)) from None
    if not (root / "course.yaml").is_file():
        _load(root)  # the usage error a plain build gives
    cache = _cache(root, no_cache, cache_dir)

    def build_targets(course, warm_cache) -> list[Path]:
        with collected() as notices:
            written = run_build(course, wanted, out, targets.BuildOptions(extra=extra), cache=warm_cache,
                                wait_for_cleanup=False)
        for line in notices.lines(verbose):
            click.echo(line, err=True)
        return written

    def echo(text: str, to_stderr: bool) -> None:
        click.echo(text, err=to_stderr)

    try:
        WatchedBuild(root, build_targets, cache, lambda diagnostics: _emit(diagnostics, "text", sys.stderr, verbose),
                     echo, strict).run()
    except NotACourse as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        finish_cleanup()  # the outputs replaced in the background are gone before the process is


def _options(pairs: tuple[str, ...]) -> dict:
    extra: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--option")
        extra[key.strip()] = value.strip()
    return extra


@cli.command("targets")
def list_targets() -> None:
    """List the output targets."""
    from . import targets

    for name, description in targets.descriptions().items():
        click.echo(f"{name:14} {description}")
    for group, members in sorted(targets.GROUPS.items()):
        click.echo(f"{group:14} group: {' + '.join(members)}")


@cli.group()
def new() -> None:
    """Create new course parts from templates."""


@new.command("module")
@click.argument("slug")
@click.option("--course", "course_dir", default=".", type=click.Path(file_okay=False), help="course folder")
@click.option("--title", default=None,
              help="the module's title. A slug cannot tell German nouns from other words, so without --title "
                   "the command asks when run in a terminal (suggesting the slug's words capitalised); "
                   "otherwise it capitalises each word: digitale-formate → 'Digitale Formate'.")
def new_module(slug: str, course_dir: str, title: str | None) -> None:
    """Scaffold modules/NN-SLUG with a lesson, a quiz and a reflection task, and place it in the last week.

    'course check' passes on the new module, with warnings for the template text still to replace.
    """
    from .scaffold import ScaffoldError, module_folder, new_module as scaffold, title_from_slug

    try:
        module_folder(Path(course_dir), slug)  # a bad slug or folder is reported before asking for the title
        if title is None and sys.stdin.isatty():
            title = click.prompt("Title of the module", default=title_from_slug(slug)).strip() or None
        created = scaffold(Path(course_dir), slug, title)
    except ScaffoldError as exc:
        raise click.UsageError(str(exc)) from None
    for path in created:
        click.echo(f"{'updated' if path.name == 'course.yaml' else 'created'} {path}")


@cli.group("import")
def import_group() -> None:
    """Bring existing Moodle material in: question files and course backups (README: Importing)."""


@import_group.command("questions")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--module", default=None, metavar="SLUG", help="add every question to this module's quiz")
@click.option("--into", "into", default=".", show_default=True, type=click.Path(file_okay=False),
              help="course folder; quizzes are written to its assessments/ folder")
@click.option("--force", is_flag=True, help="overwrite files that exist")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def import_questions(file: str, module: str | None, into: str, force: bool, fmt: str) -> None:
    """Write quiz files from a Moodle XML or GIFT file: one quiz per category, or all into --module's quiz.

    Exit status: 0 written (warnings allowed), 1 errors (nothing written).
    """
    from .importing.questions import import_questions as run

    result = run(Path(file), Path(into), module, force)
    for path in result.written:
        click.echo(f"wrote {path}", err=fmt != "text")
    _emit(diag_mod.sort_unique(result.diagnostics), fmt, sys.stdout)
    sys.exit(EXIT_ERRORS if result.failed else EXIT_OK)


@import_group.command("moodle-backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--into", "into", required=True, type=click.Path(file_okay=False), help="the course folder to create")
@click.option("--force", is_flag=True, help="replace the folder if it exists and is not empty")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def import_backup(file: str, into: str, force: bool, fmt: str) -> None:
    """Create a course folder from a Moodle course backup (.mbz): course.yaml, one module per section,
    pages and books as lessons, the question bank as quizzes, assignments as tasks; IMPORT-REPORT.md
    lists what was not carried over. The folder appears whole or not at all.

    Exit status: 0 written (warnings allowed), 1 errors (nothing written).
    """
    from .importing.backup_course import import_backup as run

    result = run(Path(file), Path(into), force)
    if result.root is not None:
        click.echo(f"wrote {len(result.written)} files to {result.root}; run 'course check {result.root}'", err=fmt != "text")
    _emit(diag_mod.sort_unique(result.diagnostics), fmt, sys.stdout)
    sys.exit(EXIT_ERRORS if result.failed else EXIT_OK)


@cli.command()
@click.argument("course_dir", default=".", type=click.Path(file_okay=False))
@click.option("--port", default=8040, show_default=True, type=click.IntRange(0, 65535),
              help="port on 127.0.0.1; 0 picks a free one")
@click.option("--open", "open_browser", is_flag=True, help="open the preview in the browser")
def preview(course_dir: str, port: int, open_browser: bool) -> None:
    """Serve the modules as learners see them, reloading the open page after every save (Ctrl-C stops)."""
    from .loader import NotACourse
    from .preview import PortInUse, run

    try:
        run(_course_dir(course_dir), port=port, open_browser=open_browser)
    except (NotACourse, PortInUse) as exc:
        raise click.UsageError(str(exc)) from None


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


# Set by the commands that load a whole course: at exit, the interpreter would free every object of
# the model one by one (0.3–0.6 s for 1,000 modules, longer than a warm rebuild's work); the
# operating system frees the process's memory at once. Output is flushed first (as mypy does).
_EXIT_WITHOUT_TEARDOWN = False


def _leave_fast() -> None:
    global _EXIT_WITHOUT_TEARDOWN
    _EXIT_WITHOUT_TEARDOWN = True


def main() -> None:
    try:
        _main()
    except SystemExit as exc:
        _exit(exc.code)
    _exit(0)


def _exit(code) -> None:
    if not _EXIT_WITHOUT_TEARDOWN:
        sys.exit(code)
    if isinstance(code, str):  # what sys.exit would print
        click.echo(code, err=True)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code or 0)


def _main() -> None:
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
