"""The Jinja environment the generators render their templates with (templates/ beside this module)."""

from __future__ import annotations

import functools

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.project import Project


@functools.cache
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("phoenix_ops.gen", "templates"), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)


def render(template: str, facts: AppFacts, **extra) -> str:
    return _environment().get_template(template).render(f=facts, stop_seconds=facts.stop_seconds, **extra)


def new_file(project: Project, path: str, content: str, why: str, *, executable: bool = False) -> Change:
    """A file the generator writes: compared with what is there, if anything."""
    return Change(path, content, project.text(path), why, executable=executable)
