import secrets

import pytest
from lab import Lab


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path)
    try:
        lab.start_hosts(3)
        lab.start_nginx()
        yield lab
    finally:
        lab.close()


@pytest.fixture
def env_file(tmp_path):
    """What every host's release runs with: one secret_key_base for all, so sessions survive. The lab's
    hosts share one machine and its EPMD: distribution stays off unless a test turns it on."""
    path = tmp_path / "prod.env"
    path.write_text(f"SECRET_KEY_BASE={secrets.token_urlsafe(48)}\nPHX_HOST=localhost\nPHX_IP=127.0.0.1\n"
                    "LANG=C.UTF-8\nRELEASE_DISTRIBUTION=none\n")
    return path
