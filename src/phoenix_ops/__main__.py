"""`python -m phoenix_ops`: the same command line as the `phoenix-ops` script."""

from phoenix_ops.cli import run

run()
