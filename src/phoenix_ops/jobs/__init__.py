"""Oban in PostgreSQL, read-only: the `jobs` command and its rules."""
