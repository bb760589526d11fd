"""The env-var contract of a Phoenix project, and checks of env files against it."""
