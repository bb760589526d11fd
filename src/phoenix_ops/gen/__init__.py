"""Generators: production files filled from Project facts, and secrets."""
