"""Readers of deploy files (Dockerfile, fly.toml, manifests): facts for rules, never judgements."""
