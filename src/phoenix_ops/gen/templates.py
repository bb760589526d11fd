"""The Jinja environment the generators render their templates with (templates/ beside this module)."""

from __future__ import annotations

import functools

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.project import Project

# Seconds the BEAM needs to stop: the endpoint drains connections, then Oban's shutdown_grace_period
# lets running jobs finish. Platforms must wait at least this long before SIGKILL.
BASE_STOP_SECONDS = 25


@functools.cache
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("phoenix_ops.gen", "templates"), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)


def render(template: str, facts: AppFacts, **extra) -> str:
    return _environment().get_template(template).render(f=facts, stop_seconds=stop_seconds(facts), **extra)


def stop_seconds(facts: AppFacts) -> int:
    return BASE_STOP_SECONDS + (facts.oban_grace_seconds if facts.oban else 0)


def new_file(project: Project, path: str, content: str, why: str, *, executable: bool = False) -> Change:
    """A file the generator writes: compared with what is there, if anything."""
    return Change(path, content, project.text(path), why, executable=executable)
