"""`course new module`: a module that passes `course check` from the start."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from .atomic import write_atomically

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# A sentence of template prose on one line: capital letter to full stop or question mark, without the
# Markdown, YAML and Jinja syntax around it ('Rückmeldung: Warum …' yields 'Warum …').
_TEMPLATE_SENTENCE = re.compile(r"[A-ZÄÖÜ][^.?!\n{}\[\]()`*:|#]*[.?!]")


class ScaffoldError(Exception):
    pass


def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("course_builder", "scaffold"), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=1)
def placeholder_sentences() -> tuple[str, ...]:
    """The example sentences the scaffold templates write, for the check that they were replaced.

    Read from the templates themselves, so a changed template changes the check with it.
    """
    found: list[str] = []
    for template in sorted((resources.files("course_builder") / "scaffold").iterdir(), key=lambda t: t.name):
        for m in _TEMPLATE_SENTENCE.finditer(template.read_text(encoding="utf-8")):
            if len(m.group(0).split()) >= 3 and m.group(0) not in found:  # 'Falsche Antwort' may be real text
                found.append(m.group(0))
    return tuple(found)


def title_from_slug(slug: str) -> str:
    """Each word capitalised: right for German nouns, wrong for other words, so the CLI asks when it can."""
    return " ".join(word[:1].upper() + word[1:] for word in slug.split("-") if word)


def module_folder(course_dir: Path, slug: str) -> str:
    """The folder name NN-slug for a new module; ScaffoldError if the slug or the course does not allow one."""
    if not SLUG.match(slug):
        raise ScaffoldError(f"'{slug}' is no valid slug: use a–z, 0–9 and '-', e.g. 'digitale-formate'")
    if not (course_dir / "course.yaml").is_file():
        raise ScaffoldError(f"no course.yaml in {course_dir}; pass --course DIR")
    modules = course_dir / "modules"
    existing = sorted(p.name for p in modules.iterdir() if p.is_dir()) if modules.is_dir() else []
    if any(re.sub(r"^\d+-", "", name) == slug for name in existing):
        raise ScaffoldError(f"a module '{slug}' exists already")
    numbers = [int(m.group(1)) for name in existing if (m := re.match(r"^(\d+)-", name))]
    return f"{(max(numbers) + 1 if numbers else 1):02d}-{slug}"


def new_module(course_dir: Path, slug: str, title: str | None = None) -> list[Path]:
    folder_name = module_folder(course_dir, slug)
    modules = course_dir / "modules"
    title = title or title_from_slug(slug)
    values = {"slug": slug, "folder": folder_name, "title": title, "title_yaml": _yaml_text(title)}
    files = {
        modules / folder_name / "module.yaml": "module.yaml.j2",
        modules / folder_name / "01-einfuehrung.md": "lesson.md.j2",
        course_dir / "assessments" / folder_name / "quiz.md": "quiz.md.j2",
        course_dir / "assessments" / folder_name / "reflexion.md": "reflexion.md.j2",
    }
    for path in files:
        if path.exists():
            raise ScaffoldError(f"{path} exists already")
    course_yaml = course_dir / "course.yaml"
    try:
        schedule_text = course_yaml.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ScaffoldError(f"course.yaml cannot be read ({exc}); fix it with 'course check' first") from None
    scheduled = placed_in_schedule(schedule_text, slug)  # a course.yaml it cannot edit stops before any file is written
    env = _env()
    created = []
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(**values), encoding="utf-8")
        created.append(path)
    if scheduled != schedule_text:
        _rewrite(course_yaml, scheduled)
        created.append(course_yaml)
    return created


def _line_after(node: yaml.Node) -> int:
    """0-based index of the line after a block node's last content (its own end mark is the next token)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value and node.flow_style is not True:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    end = node.end_mark
    return end.line if end.column == 0 else end.line + 1


def _mapping(node, key: str):
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None


def _week_entries(self_study) -> list[tuple[int, yaml.MappingNode]]:
    """(week, entry) of the self-study entries whose week is a number."""
    entries = self_study.value if isinstance(self_study, yaml.SequenceNode) else []
    out = []
    for entry in entries:
        week = _mapping(entry, "week")
        if isinstance(week, yaml.ScalarNode) and week.value.isdigit():
            out.append((int(week.value), entry))
    return out


def _module_names(entry: yaml.MappingNode) -> list[str]:
    modules = _mapping(entry, "modules")
    items = modules.value if isinstance(modules, yaml.SequenceNode) else []
    return [item.value for item in items if isinstance(item, yaml.ScalarNode)]


def _append_to_modules(text: str, entry: yaml.MappingNode, slug: str) -> str | None:
    """text with slug added to the entry's module list, written in the list's own style; None if it has none."""
    modules = _mapping(entry, "modules")
    if not isinstance(modules, yaml.SequenceNode):
        return None
    if modules.flow_style:
        close = text.rindex("]", modules.start_mark.index, modules.end_mark.index)
        before = text[:close].rstrip()
        sep = "" if before.endswith("[") else " " if before.endswith(",") else ", "
        return before + sep + slug + text[close:]
    lines = text.split("\n")
    lines.insert(_line_after(modules), " " * modules.start_mark.column + f"- {slug}")
    return "\n".join(lines)


def placed_in_schedule(text: str, slug: str) -> str:
    """course.yaml's text with the module in the last course week's self-study, in the file's own layout.

    If that week has a self-study entry, the module joins its list; otherwise a new entry goes at the
    end of schedule.self_study. Either way the edit is text inserted where the YAML node marks say,
    so the author's comments and formatting stay as they were.
    """
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ScaffoldError(f"course.yaml cannot be read ({exc}); fix it with 'course check' first") from None
    if not isinstance(root, yaml.MappingNode):
        raise ScaffoldError("course.yaml is not a mapping; fix it with 'course check' first")
    weeks = _mapping(_mapping(root, "cohort"), "weeks")
    weeks = int(weeks.value) if isinstance(weeks, yaml.ScalarNode) and weeks.value.isdigit() else 12
    schedule = _mapping(root, "schedule")
    entries = _week_entries(_mapping(schedule, "self_study"))
    if any(slug in _module_names(entry) for _, entry in entries):
        return text  # planned in the schedule already
    last_week = [entry for week, entry in entries if week == weeks]
    if last_week and (edited := _append_to_modules(text, last_week[-1], slug)) is not None:
        return edited
    lines = text.split("\n")
    if schedule is not None and not (isinstance(schedule, yaml.MappingNode) and schedule.value):
        line = schedule.start_mark.line + 1
        raise ScaffoldError(f"course.yaml:{line}: 'schedule' is empty or no mapping, so the module cannot be placed; "
                            "write it as indented 'self_study:' lines (docs/authoring.md) or remove it")
    if isinstance(schedule, yaml.MappingNode):
        self_study = _mapping(schedule, "self_study")
        if isinstance(self_study, yaml.SequenceNode) and self_study.value:
            indent = " " * self_study.value[0].start_mark.column
            dash = " " * max(0, self_study.value[0].start_mark.column - 2)
            at = _line_after(self_study)
            block = [f"{dash}- week: {weeks}", f"{indent}modules: [{slug}]"]
        else:
            key = schedule.value[0][0]
            indent = " " * key.start_mark.column
            at = _line_after(schedule)
            block = [f"{indent}self_study:", f"{indent}  - week: {weeks}", f"{indent}    modules: [{slug}]"]
    else:
        at = len(lines)
        block = ["schedule:", "  self_study:", f"    - week: {weeks}", f"      modules: [{slug}]"]
    while at > 0 and at <= len(lines) and not lines[at - 1].strip():
        at -= 1
    lines[at:at] = block
    return "\n".join(lines)


def _rewrite(course_yaml: Path, text: str) -> None:
    """The designer's own file: replaced whole (never left half-written), keeping its permissions."""
    mode = course_yaml.stat().st_mode & 0o777
    write_atomically(course_yaml, lambda fh: fh.write(text.encode("utf-8")))
    os.chmod(course_yaml, mode)
