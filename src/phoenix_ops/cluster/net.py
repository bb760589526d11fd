"""Small helpers shared by the EPMD and distribution clients."""

from __future__ import annotations

import os


def os_reason(exc: OSError) -> str:
    """'Connection refused' rather than asyncio's 'Connect call failed (...)'."""
    return os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
