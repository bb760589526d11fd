"""Helpers the env tests share (a module of its own: every test folder has a conftest)."""

from pathlib import Path

GOOD_SECRET = "s" * 64


def line_of(text: str, needle: str) -> int:
    """The line of `needle` in a fixture file, so tests do not hard-code line numbers."""
    return text[: text.index(needle)].count("\n") + 1


def write_tree(root: Path, files: dict[str, str | None]) -> Path:
    """Write the files; None leaves one out."""
    for rel, body in files.items():
        if body is not None:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(body)
    return root
