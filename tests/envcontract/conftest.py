"""Small Phoenix projects written by each test, in the shapes generators and real apps use."""

from pathlib import Path

import pytest

from project_shapes import GOOD


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


@pytest.fixture
def project_dir(tmp_path):
    """Write a project: the generated one, with some files replaced or added."""
    def make(changes: dict[str, str | None] | None = None, base: dict[str, str] = GOOD) -> Path:
        return write_tree(tmp_path / "app", {**base, **(changes or {})})
    return make
