"""`course new module`: a module that passes `course check` from the start."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ScaffoldError(Exception):
    pass


def _env() -> Environment:
    return Environment(loader=PackageLoader("course_builder", "scaffold"), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_module(course_dir: Path, slug: str, title: str | None = None) -> list[Path]:
    if not SLUG.match(slug):
        raise ScaffoldError(f"'{slug}' is no valid slug: use a–z, 0–9 and '-', e.g. 'digitale-formate'")
    if not (course_dir / "course.yaml").is_file():
        raise ScaffoldError(f"no course.yaml in {course_dir}; pass --course DIR")
    modules = course_dir / "modules"
    existing = sorted(p.name for p in modules.iterdir() if p.is_dir()) if modules.is_dir() else []
    if any(re.sub(r"^\d+-", "", name) == slug for name in existing):
        raise ScaffoldError(f"a module '{slug}' exists already")
    numbers = [int(m.group(1)) for name in existing if (m := re.match(r"^(\d+)-", name))]
    folder_name = f"{(max(numbers) + 1 if numbers else 1):02d}-{slug}"
    title = title or slug.replace("-", " ").capitalize()
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
    env = _env()
    created = []
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(**values), encoding="utf-8")
        created.append(path)
    place_in_schedule(course_dir / "course.yaml", slug)
    created.append(course_dir / "course.yaml")
    return created


def _line_after(node: yaml.Node) -> int:
    """0-based index of the line after a block node's last content (its own end mark is the next token)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value and node.flow_style is not True:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    end = node.end_mark
    return end.line if end.column == 0 else end.line + 1


def place_in_schedule(course_yaml: Path, slug: str) -> None:
    """Add a self-study entry for the module in the last course week, keeping the file's layout.

    Inserted as text at the end of schedule.self_study (found with the YAML node marks), so the
    author's comments and formatting stay as they were.
    """
    text = course_yaml.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ScaffoldError(f"course.yaml cannot be read ({exc}); fix it with 'course check' first") from None
    if not isinstance(root, yaml.MappingNode):
        raise ScaffoldError("course.yaml is not a mapping; fix it with 'course check' first")
    top = {k.value: v for k, v in root.value}
    weeks = 12
    cohort = top.get("cohort")
    if isinstance(cohort, yaml.MappingNode):
        for k, v in cohort.value:
            if k.value == "weeks" and v.value.isdigit():
                weeks = int(v.value)
    lines = text.split("\n")
    schedule = top.get("schedule")
    if isinstance(schedule, yaml.MappingNode):
        entries = {k.value: (k, v) for k, v in schedule.value}
        if "self_study" in entries and isinstance(entries["self_study"][1], yaml.SequenceNode) and entries["self_study"][1].value:
            seq = entries["self_study"][1]
            indent = " " * seq.value[0].start_mark.column
            dash = " " * max(0, seq.value[0].start_mark.column - 2)
            at = _line_after(seq)
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
    course_yaml.write_text("\n".join(lines), encoding="utf-8")
