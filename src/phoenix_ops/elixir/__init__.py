"""Elixir source read with tree-sitter-elixir and evaluated abstractly into plain Python values."""
