"""The release's own files: rel/env.sh.eex exports, rel/vm.args.eex flags, rel/overlays/bin scripts."""

from __future__ import annotations

from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record

_EXPORT = lazy(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


@record(frozen=True)
class Export:
    name: str
    value: str  # as written, quotes removed; may hold `$(...)`, `${X}` or EEx
    line: int
    conditional: bool = False  # inside an `if`/`case` of the script


@record
class EnvScript:
    path: str
    exports: list[Export] = field(default_factory=list)

    def get(self, name: str) -> Export | None:
        return next((e for e in reversed(self.exports) if e.name == name), None)


@record(frozen=True)
class VmFlag:
    flag: str  # `+S`, `+sbwt`, `-kernel`, `-name` ...
    value: str
    line: int


def read_env_script(path: str, text: str) -> EnvScript:
    script = EnvScript(path)
    depth = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "<%#")):
            continue
        word = line.split()[0].rstrip(";")
        if word in ("if", "case", "for", "while"):
            depth += 1
        elif word in ("fi", "esac", "done"):
            depth = max(0, depth - 1)
        m = _EXPORT.match(line)
        if m:
            value = m.group(2).split(" #")[0].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            script.exports.append(Export(m.group(1), value, number, depth > 0))
    return script


def read_vm_args(text: str) -> list[VmFlag]:
    flags = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("##")[0].strip()
        if not line or line.startswith(("#", "<%#")):
            continue
        flag, _, value = line.partition(" ")
        flags.append(VmFlag(flag, value.strip(), number))
    return flags


def flags_in(text: str, line: int) -> list[VmFlag]:
    """Emulator flags inside an ERL_FLAGS / ERL_AFLAGS value (`+S 2:2 +sbwt none`)."""
    words, out = text.split(), []
    for i, word in enumerate(words):
        if word[:1] in "+-" and len(word) > 1:
            value = words[i + 1] if i + 1 < len(words) and words[i + 1][:1] not in "+-" else ""
            out.append(VmFlag(word, value, line))
    return out
