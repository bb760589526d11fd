"""Secrets shaped like `mix phx.gen.secret`: 64 characters of base64 from 64 random bytes."""

from __future__ import annotations

import base64
import secrets


def new_secret(length: int = 64) -> str:
    if length < 32:
        raise ValueError("a secret shorter than 32 characters is not worth generating")
    raw = secrets.token_bytes(max(length, 64))
    return base64.b64encode(raw).decode().rstrip("=")[:length]
