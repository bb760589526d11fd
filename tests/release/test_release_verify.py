"""`release verify` against the real Phoenix release of tests/phoenix_app: each way a release fails
before traffic, made to happen for real."""

import contextlib
import ctypes
import json
import os
import secrets
import shutil
from pathlib import Path

import pytest
from cli_run import invoke
from report_pages import assert_good_page, look

pytestmark = pytest.mark.slow


def verify(*args):
    result = invoke(["release", "verify", *map(str, args), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    return result.exit_code, doc["findings"]


def ids(findings) -> set[str]:
    return {f["rule_id"] for f in findings}


def env_file(tmp_path: Path, **values) -> Path:
    base = {"SECRET_KEY_BASE": secrets.token_urlsafe(48), "PHX_HOST": "localhost", "PHX_IP": "127.0.0.1",
            "LANG": "C.UTF-8"}
    path = tmp_path / "prod.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in {**base, **values}.items() if v is not None))
    return path


@pytest.fixture
def release_copy(tmp_path, phoenix_build):
    """A copy of the built release the test may change (its runtime.exs)."""
    copy = Path(shutil.copytree(phoenix_build.release, tmp_path / "rel", symlinks=True))
    (copy / "erl_crash.dump").unlink(missing_ok=True)
    return copy


def test_a_sound_release_boots_answers_and_stops_in_time(tmp_path, phoenix_build):
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path), "--health", "/health",
                         "--no-probe")
    assert code == 0 and ids(found) == {"REL110"}
    measured = found[0]["message"]
    assert "booted in" in measured and "/health 200" in measured and "after SIGTERM" in measured


def test_the_tarball_is_verified_and_the_probe_runs_without_tls_rules(tmp_path, phoenix_build):
    code, found = verify(phoenix_build.tarball, "--env-file", env_file(tmp_path), "--health", "/health")
    assert "WEB121" in ids(found)  # the fixture's /metrics answers without authentication
    assert not ids(found) & {"WEB100", "WEB103", "WEB105", "WEB106", "WEB149", "WEB118"}


def test_a_missing_secret_stops_the_boot_and_the_contract_names_it(tmp_path, phoenix_build):
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path, SECRET_KEY_BASE=None),
                         "--project", phoenix_build.source, "--no-probe", "--timeout", "30")
    assert code == 1
    assert {"REL100", "REL106"} <= ids(found)
    contract = [f for f in found if 50 <= int(f["rule_id"][3:]) <= 62]  # the env file against the contract
    assert any("SECRET_KEY_BASE" in f["message"] for f in contract), contract
    # The VM halting on a config provider error can lose what it printed after its first line
    # ("ERROR! Config provider Config.Reader failed with:"), in `eval` as in the boot; when it
    # printed the reason, the finding shows it.
    for crashed in (f for f in found if f["rule_id"] in ("REL100", "REL106")):
        if not crashed["message"].endswith("failed with:"):
            assert "SECRET_KEY_BASE is missing" in crashed["message"], crashed


def test_a_release_listening_elsewhere_is_found_within_the_timeout(tmp_path, phoenix_build):
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path, PHX_IP="127.0.0.2"),
                         "--no-probe", "--timeout", "8")
    assert code == 1 and "REL107" in ids(found)


def test_a_health_path_that_is_not_served(tmp_path, phoenix_build):
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path), "--health", "/health",
                         "--health", "/readyz-not-mounted", "--no-probe")
    failing = [f for f in found if f["rule_id"] == "REL108"]
    assert code == 1 and len(failing) == 1 and "/readyz-not-mounted answers 404" in failing[0]["message"]


def test_a_stop_slower_than_the_budget(tmp_path, phoenix_build):
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path), "--no-probe",
                         "--shutdown-budget", "0.05")
    assert code == 1 and "REL109" in ids(found)


def test_without_a_utf8_locale_the_vm_uses_latin1_file_names(tmp_path, phoenix_build):
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path, LANG=None), "--no-probe")
    assert "REL103" in ids(found)
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path), "--no-probe")
    assert "REL103" not in ids(found)


def test_runtime_config_that_changes_a_compile_time_value(tmp_path, release_copy):
    runtime = next(release_copy.glob("releases/*/runtime.exs"))
    # Plug.Conn.Status reads :plug, :statuses with Application.compile_env.
    runtime.write_text(runtime.read_text() + '\nconfig :plug, :statuses, %{499 => "Client Closed Request"}\n')
    code, found = verify(release_copy, "--env-file", env_file(tmp_path), "--no-probe", "--timeout", "30")
    mismatch = [f for f in found if f["rule_id"] == "REL105"]
    assert code == 1 and mismatch and ":plug key statuses" in mismatch[0]["message"]
    assert not list(release_copy.rglob("erl_crash.dump"))


def test_what_is_not_a_release_is_refused_in_one_line(tmp_path):
    result = invoke(["release", "verify", str(tmp_path)])
    assert result.exit_code == 2 and "not a Mix release" in result.stderr


def test_an_openssl_the_crypto_nif_cannot_load(tmp_path, phoenix_build):
    """A libcrypto of another kind first on the library path: the runner image without the release's OpenSSL."""
    bad = tmp_path / "libs"
    bad.mkdir()
    (bad / "libcrypto.so.3").write_text("not a shared object\n")
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path, LD_LIBRARY_PATH=bad), "--no-probe",
                         "--timeout", "20")
    assert code == 1 and "REL101" in ids(found)


@contextlib.contextmanager
def hidden_os_certificates(empty: Path):
    """/etc/ssl/certs replaced by an empty directory for this test process and what it starts: the
    process moves to a private mount namespace of its own (a copy of the machine's), and the bind
    mount is undone afterwards. Nothing outside the process sees it."""
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.unshare(CLONE_NEWNS) == 0, os.strerror(ctypes.get_errno())
    assert libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0, os.strerror(ctypes.get_errno())
    assert libc.mount(str(empty).encode(), b"/etc/ssl/certs", None, MS_BIND, None) == 0
    try:
        yield
    finally:
        libc.umount2(b"/etc/ssl/certs", 0)


CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x00020000, 4096, 16384, 1 << 18


def test_an_empty_os_certificate_store(tmp_path, phoenix_build):
    empty = tmp_path / "certs"
    empty.mkdir()
    with hidden_os_certificates(empty):
        code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path), "--no-probe")
    assert "REL102" in ids(found)
    assert next(f for f in found if f["rule_id"] == "REL102")["severity"] == "warning"
    assert len(os.listdir("/etc/ssl/certs")) > 0  # the machine's store is back for the rest of the run


def test_tzdata_that_cannot_write_its_data_directory(tmp_path, phoenix_build):
    """A tzdata library on ERL_LIBS whose data_dir is below a file: every update would fail."""
    ebin = tmp_path / "erl_libs" / "tzdata-1.1.1" / "ebin"
    ebin.mkdir(parents=True)
    (ebin / "tzdata.app").write_text(
        '{application,tzdata,[{description,"tz"},{vsn,"1.1.1"},{modules,[]},{registered,[]},'
        '{applications,[kernel,stdlib]},{env,[{data_dir,"/dev/null/tzdata"}]}]}.\n')
    code, found = verify(phoenix_build.release, "--env-file",
                         env_file(tmp_path, ERL_LIBS=tmp_path / "erl_libs"), "--no-probe")
    tz = [f for f in found if f["rule_id"] == "REL104"]
    assert tz and "/dev/null/tzdata" in tz[0]["message"]
    code, found = verify(phoenix_build.release, "--env-file", env_file(tmp_path), "--no-probe")
    assert "REL104" not in ids(found)


def test_the_text_report_ends_with_the_checklist_of_what_was_judged(tmp_path, phoenix_build):
    result = invoke(["release", "verify", str(phoenix_build.release), "--env-file", str(env_file(tmp_path)),
                     "--no-probe"])
    assert result.exit_code == 0, result.output
    # REL110 notes the boot; tzdata is not in the fixture; the env contract needs --project; the
    # probe's areas, all left out by --no-probe, say nothing.
    assert result.stdout.endswith("\n\nREL: 1 noted, 9 passed, 1 not applicable, 13 not run\n\n0 errors, 0 warnings, "
                                  "1 info\n")


def test_the_html_report_shows_the_checklist_in_a_browser(tmp_path, phoenix_build, browser):
    report = tmp_path / "verify.html"
    result = invoke(["release", "verify", str(phoenix_build.tarball), "--env-file", str(env_file(tmp_path)),
                     "--health", "/health", "--format", "html", "-o", str(report)])
    assert result.exit_code == 1, result.output  # the probe's findings (the fixture's /metrics is open)
    page = look(browser, report, "release-verify")
    assert_good_page(page, report)
    checks = dict(page.desktop["checks"])
    assert checks["WEB121"] == "failed" and checks["REL108"] == "passed" and checks["REL104"] == "not applicable"
    assert checks["WEB103"] == checks["REL050"] == "not run"  # HSTS on loopback; the contract without --project
