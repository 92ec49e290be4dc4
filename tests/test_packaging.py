"""The tool as a new user gets it: a wheel installed into a fresh venv, used outside the repository.

Slow (it installs the dependencies into a new venv, from pip's cache or PyPI): marked `slow`, run by
`make test` and so by `.ci/run`; `pytest -m 'not slow'` leaves it out while editing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

COURSE_PARTS = ["course.yaml", "glossary.yaml", "modules", "assessments"]
PACKAGES = ["course_builder", "lti"]
_NOT_SOURCE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def _run(*cmd: str | Path, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _clean_env() -> dict:
    """The environment of a user's shell: no venv of ours, no path into the repository."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _copy_sources(dest: Path) -> Path:
    """The project as a source distribution holds it, so the wheel build never writes into the repository."""
    dest.mkdir()
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy2(REPO / name, dest / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, dest / package, ignore=_NOT_SOURCE)
    return dest


def _data_files(src: Path) -> set[str]:
    """Every file of the packages that is not Python code: what the tool reads at run time."""
    return {p.relative_to(src).as_posix() for package in PACKAGES for p in (src / package).rglob("*")
            if p.is_file() and p.suffix != ".py"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """(wheel, bin folder of a fresh venv with the wheel installed, environment)."""
    root = tmp_path_factory.mktemp("packaging")
    env = _clean_env()
    src = _copy_sources(root / "src")
    _run(sys.executable, "-m", "pip", "wheel", src, "--no-deps", "-q", "-w", root / "dist", cwd=root, env=env)
    (wheel,) = (root / "dist").glob("course_builder-*.whl")
    _run(sys.executable, "-m", "venv", root / "venv", cwd=root, env=env)
    bin_dir = root / "venv" / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=root, env=env)
    return wheel, bin_dir, env


def test_wheel_holds_every_data_file(installed, tmp_path: Path):
    wheel, _, _ = installed
    src = _copy_sources(tmp_path / "src")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = _data_files(src) - names
    assert not missing, f"not in the wheel (add them to [tool.setuptools.package-data]): {sorted(missing)}"


def test_installed_copy_builds_every_target_outside_the_repository(installed, tmp_path: Path):
    from course_builder import __version__, targets

    _, bin_dir, env = installed
    course = tmp_path / "course"
    course.mkdir()
    for part in COURSE_PARTS:
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy2)(REPO / part, course / part)

    where = _run(bin_dir / "python", "-c", "import course_builder; print(course_builder.__file__)", cwd=course, env=env)
    assert Path(where.stdout.strip()).is_relative_to(bin_dir.parent), "the installed copy, not the repository"

    assert _run(bin_dir / "course", "--version", cwd=course, env=env).stdout.strip() == f"course, version {__version__}"
    listed = _run(bin_dir / "course", "targets", cwd=course, env=env).stdout
    assert [line.split()[0] for line in listed.splitlines() if "group:" not in line] == targets.names()

    # with a tool URL, so that every target is built, the cartridge too
    build = _run(bin_dir / "course", "build", "--out", "out", "-O", "lti_url=https://lti.example.test", cwd=course, env=env)
    assert f"{len(targets.names())} target(s)" in build.stdout, build.stdout + build.stderr
    for name in targets.names():
        files = [p for p in (course / "out" / name).rglob("*") if p.is_file()]
        assert files, f"target {name} wrote nothing"
    assert (course / "out" / "html" / "assets" / "learner.css").is_file(), "the player's static files are installed"

    # The scaffold templates are package data too: a new module from the installed copy checks without errors.
    _run(bin_dir / "course", "new", "module", "digitale-formate", "--title", "Digitale Formate", cwd=course, env=env)
    _run(bin_dir / "course", "check", cwd=course, env=env)
