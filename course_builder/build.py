"""Run targets; every target's output folder appears whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from . import targets
from .model import Course


def check_options(target_names: list[str], options: targets.BuildOptions) -> None:
    """Raise OptionError for the first target that cannot use the options, before any target writes a file."""
    for name in target_names:
        check = getattr(targets.get(name), "check_options", None)
        if check:
            check(targets.get(name)(), options)


def build(course: Course, target_names: list[str], out: Path, options: targets.BuildOptions | None = None) -> list[Path]:
    options = options or targets.BuildOptions()
    check_options(target_names, options)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in target_names:
        target = targets.get(name)()
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
        try:
            target.build(course, staging, options)
            _swap_in(staging, out / name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        written.append(out / name)
    return written


def _swap_in(staging: Path, final: Path) -> None:
    """Replace final by staging with renames only, so readers never see a half-written folder."""
    os.chmod(staging, 0o755)
    if final.exists() or final.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
        os.replace(final, old / final.name)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)
