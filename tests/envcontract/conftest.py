"""Small Phoenix projects written by each test, in the shapes generators and real apps use."""

from pathlib import Path

import pytest
from env_support import write_tree
from project_shapes import GOOD


@pytest.fixture
def project_dir(tmp_path):
    """Write a project: the generated one, with some files replaced or added."""
    def make(changes: dict[str, str | None] | None = None, base: dict[str, str] = GOOD) -> Path:
        return write_tree(tmp_path / "app", {**base, **(changes or {})})
    return make
