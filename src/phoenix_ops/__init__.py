"""phoenix-ops: production readiness for Elixir/Phoenix applications."""

__version__ = "0.1.0"
