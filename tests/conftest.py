"""Shared test helpers: the bundled course, a small valid course to break, and the CLI in-process."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from course_builder.cli import cli

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "fixtures" / "mini"
SHARED = Path(os.environ.get("COURSE_SHARED", REPO.parent / "shared"))


def shared(*parts: str) -> Path:
    """A path in the reference data (shared/ beside the repository, or $COURSE_SHARED).

    CI always has it, so there a missing file fails the test; in a bare clone elsewhere the tests
    that compare against it are skipped with the reason.
    """
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} not found: the reference data shared/ must lie beside the repository (or set COURSE_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def output_files(out: Path) -> dict[str, bytes]:
    """The files below out by relative path; not the replaced folders (.<target>.old.*), which a build
    that does not wait for them deletes in the background: walking into them would race the deletion."""
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for top in sorted(out.iterdir()) if not top.name.startswith(".")
            for p in sorted([top, *top.rglob("*")]) if p.is_file()}


def run_course(*args: str, cwd: Path | None = None) -> Run:
    """Run the `course` CLI in-process (fast enough for property tests)."""
    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        result = runner.invoke(cli, list(args))
    finally:
        os.chdir(old)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return Run(result.exit_code, result.stdout, result.stderr, exc)


@pytest.fixture(autouse=True, scope="session")
def cache_outside_the_sources(tmp_path_factory):
    """`course check` and `course build` cache into <course>/.course-cache by default: in tests that
    would be the repository and tests/fixtures/mini, which copies of the fixture would then carry
    along. Tests that are about the default place unset the variable."""
    os.environ["COURSE_CACHE_DIR"] = str(tmp_path_factory.mktemp("course-cache"))
    yield


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A fresh copy of the small valid course, to change in a test."""
    target = tmp_path / "mini"
    shutil.copytree(MINI, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
