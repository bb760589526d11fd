"""Variable names: runtime-owned ones, and near misses of the names the config reads."""

from __future__ import annotations

# Read by the release scripts, the BEAM or the OS, not by config: never "unknown".
RUNTIME_NAMES = {"MIX_ENV", "LANG", "LANGUAGE", "TZ", "HOME", "PATH", "HOSTNAME", "TERM", "ELIXIR_ERL_OPTIONS"}
RUNTIME_PREFIXES = ("RELEASE_", "ERL_", "LC_")


def runtime_owned(name: str) -> bool:
    return name in RUNTIME_NAMES or name.startswith(RUNTIME_PREFIXES)


def closest(name: str, known: list[str]) -> str | None:
    """The known name `name` most likely misspells, if any.

    Short names get one edit only: at two edits PORT and HOST would pass for each other.
    """
    best: tuple[int, str] | None = None
    for other in known:
        if other.upper() == name.upper():
            return other
        limit = 1 if min(len(name), len(other)) <= 6 else 2
        d = distance(name, other, limit)
        if d <= limit and (best is None or d < best[0]):
            best = (d, other)
    return best[1] if best else None


def distance(a: str, b: str, limit: int) -> int:
    """Edit distance counting a swap of neighbours as one edit; gives up past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[len(b)]
