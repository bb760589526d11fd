"""systemd unit files: sections of keys that may repeat, `\\` continuations, quoted assignments.

configparser refuses repeated keys (`Environment=` twice) and mangles quotes, so units are read
here the way systemd.syntax(7) describes them.
"""

from __future__ import annotations

import shlex

from phoenix_ops.project.deploy.durations import seconds
from phoenix_ops.record import field, record


@record(frozen=True)
class Setting:
    key: str
    value: str
    line: int


@record
class Unit:
    path: str
    sections: dict[str, list[Setting]] = field(default_factory=dict)

    def all(self, section: str, key: str) -> list[Setting]:
        return [s for s in self.sections.get(section, []) if s.key == key]

    def get(self, section: str, key: str) -> Setting | None:
        """The last assignment wins, as in systemd; an empty assignment resets it."""
        found = self.all(section, key)
        return found[-1] if found and found[-1].value else None

    def environment(self) -> dict[str, tuple[str, int]]:
        """`Environment=` assignments, several per line and quoted, later ones winning."""
        out: dict[str, tuple[str, int]] = {}
        for s in self.all("Service", "Environment"):
            if not s.value:
                out.clear()
                continue
            try:
                words = shlex.split(s.value)
            except ValueError:
                words = s.value.split()
            for word in words:
                name, eq, value = word.partition("=")
                if eq and name:
                    out[name] = (value, s.line)
        return out

    def environment_files(self) -> list[tuple[str, bool, int]]:
        """(path, optional, line) of each `EnvironmentFile=`; a leading `-` makes it optional."""
        return [(s.value.lstrip("-"), s.value.startswith("-"), s.line)
                for s in self.all("Service", "EnvironmentFile") if s.value]

    def exec_start(self) -> list[str]:
        """ExecStart's words, without systemd's `@-:+!` prefixes."""
        s = self.get("Service", "ExecStart")
        if s is None:
            return []
        try:
            words = shlex.split(s.value)
        except ValueError:
            words = s.value.split()
        if words:
            words[0] = words[0].lstrip("@-:+!")
        return words

    def stop_timeout(self) -> float | None:
        for key in ("TimeoutStopSec", "TimeoutSec"):
            s = self.get("Service", key)
            if s is not None:
                return seconds(s.value)
        return None


def read_unit(path: str, text: str) -> Unit:
    unit = Unit(path)
    section = ""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending, start = pending + line[:-1] + " ", start or number
            continue
        if pending:
            line, number, pending, start = pending + line, start, "", 0
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            unit.sections.setdefault(section, [])
        elif "=" in line:
            key, _, value = line.partition("=")
            unit.sections.setdefault(section, []).append(Setting(key.strip(), value.strip(), number))
    return unit
