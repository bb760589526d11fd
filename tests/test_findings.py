from phoenix_ops.findings import Confidence, Finding, Location, Severity, redact


def make(line: int, message: str = "m") -> Finding:
    return Finding("SEC001", "x", Severity.ERROR, Confidence.HIGH, message,
                   location=Location(path="config/prod.exs", line=line), key="secret_key_base")


def test_fingerprint_ignores_line_number():
    assert make(3).fingerprint == make(40).fingerprint


def test_fingerprint_differs_by_rule_subject_and_key():
    a = make(3)
    b = Finding("SEC002", "x", Severity.ERROR, Confidence.HIGH, "m",
                location=Location(path="config/prod.exs", line=3), key="secret_key_base")
    c = Finding("SEC001", "x", Severity.ERROR, Confidence.HIGH, "m",
                location=Location(path="config/dev.exs", line=3), key="secret_key_base")
    assert len({a.fingerprint, b.fingerprint, c.fingerprint}) == 3


def test_secrets_are_redacted_at_construction():
    token = "Zk3j9QpL0x7Yv2Rb8Nc5Md1We4Tf6Ug0Ih3Jk7Lm9Np2Qr5St8Uv1Wx4Yz6Ab0Cd"
    f = make(1, f"secret_key_base is {token}")
    assert token not in f.message
    assert "<redacted 64 chars>" in f.message
    assert redact("ecto://user:hunter2@db/app") == "ecto://user:***@db/app"


def test_location_renders_file_line_or_url():
    assert str(Location(path="a.exs", line=2, column=5)) == "a.exs:2:5"
    assert str(Location(url="https://x.test/")) == "https://x.test/"
    assert str(Location(node="a@127.0.0.1")) == "a@127.0.0.1"
    assert str(Location(url="https://x.test/", node="10.0.0.2")) == "https://x.test/ via 10.0.0.2"


def test_long_identifiers_are_not_taken_for_secrets():
    text = "GOOGLE_CLOUD_STORAGE_SERVICE_ACCOUNT_JSON and cache_static_manifest_latest_version_key"
    assert redact(text) == text
    assert "redacted" in redact("token ABCDEFGHIJKLMNOPQRSTUVWXYZ012345abcdef")
    assert "redacted" in redact("key sk_live_abcdefghijklmnopqrstuvwxyz0123456789")
    digested = "404 for /assets/app-faa62f6cfca36f25275758a465b6741d.css"  # phx.digest's MD5, no secret
    assert redact(digested) == digested
    assert "redacted" in redact("/abc/SFMyNTYg3QAAAABbQAAAAtfY3NyZl90b2tlbm0")
    assert redact("in lib/workers/save_browser_replay_event.ex") == "in lib/workers/save_browser_replay_event.ex"
    assert "redacted" in redact("k=Zk3j9QpL0x7Yv2Rb8Nc5Md1We4Tf6Ug0Ih3/Jk7Lm9Np2Qr5")
    assert redact("/run/secrets/cluster_cookie_file_for_production") == "/run/secrets/cluster_cookie_file_for_production"
    for path in ("priv/jit/jit_api_service/Dockerfile", "deploy/production/Procfile.web"):  # file names are capitalised
        assert redact(f"{path}: the final stage") == f"{path}: the final stage"
    assert "redacted" in redact("key abcdefghijklmnop/qrstuvwxyzabcdefgh/ZkQjLmNpQrStUv")
