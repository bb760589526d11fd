"""What the release says about its own runtime, asked with `bin/<app> eval` before it ever boots."""

from __future__ import annotations

import subprocess

from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.record import record
from phoenix_ops.release.artifact import Release
from phoenix_ops.release.boot import failure_reason
from phoenix_ops.rule import Subject, rule

MARK = "phoenix-ops-check"
# One Elixir program, run by the release's own VM: each check prints `MARK name ok|error detail`.
EVAL = r'''
check = fn name, fun ->
  line =
    try do
      case fun.() do
        {:ok, detail} -> "ok " <> to_string(detail)
        {:error, detail} -> "error " <> to_string(detail)
      end
    rescue
      e -> "error " <> Exception.message(e)
    catch
      kind, reason -> "error " <> inspect({kind, reason})
    end

  IO.puts("MARK " <> name <> " " <> String.replace(line, "\n", " "))
end

check.("crypto", fn -> {:ok, byte_size(:crypto.strong_rand_bytes(16))} end)
check.("cacerts", fn -> {:ok, length(:public_key.cacerts_get())} end)

check.("encoding", fn ->
  case :file.native_name_encoding() do
    :utf8 -> {:ok, "utf8"}
    other -> {:error, other}
  end
end)

check.("tzdata", fn ->
  case :code.lib_dir(:tzdata) do
    {:error, _} ->
      {:ok, "not used"}

    _ ->
      Application.load(:tzdata)
      dir = Application.get_env(:tzdata, :data_dir) || Application.app_dir(:tzdata, "priv")
      probe = Path.join(dir, ".write-test")

      case File.write(probe, "") do
        :ok -> File.rm(probe) && {:ok, dir}
        {:error, reason} -> {:error, "#{dir}: #{:file.format_error(reason)}"}
      end
  end
end)
'''.replace("MARK", MARK)

H = Confidence.HIGH
# What the runtime checks judge, read from the verification: the release's answers to `eval`.
EVALUATED = Subject(present=lambda run: run.evaluated.ran,
                    unknown=lambda run: "`bin/<app> eval` did not run the checks (REL100)")
TZDATA_USED = Subject("tzdata is not in the release", lambda run: bool(run.evaluated.tzdata_used),
                      lambda run: None if run.evaluated.ran else "`bin/<app> eval` did not run the checks (REL100)")

EVAL_FAILED = rule(
    "REL100", "release-eval-failed", Severity.ERROR, H, kind="release",
    title="`bin/<app> eval` fails: the release cannot run a single expression",
    why="""
    `eval` starts the release's VM with its configuration but none of its applications. When even
    that fails (a missing ERTS for this machine's architecture, a broken runtime.exs, a config
    provider that raises) the release will not start either, and migrations through `eval` cannot
    run.
    """,
    fix="""
    Run `bin/<app> eval "IO.puts(:ok)"` on the target machine and read the error. Build the release
    on the same OS and libc as the runner (the Dockerfile's builder and runner images on one Debian
    release), and set the variables runtime.exs requires.
    """)

CRYPTO = rule(
    "REL101", "crypto-nif-unavailable", Severity.ERROR, H, kind="release", subject=EVALUATED,
    title="The crypto NIF does not load (OpenSSL missing or of another version)",
    why="""
    Phoenix signs cookies, Plug hashes tokens, TLS to the database and `:crypto.strong_rand_bytes`
    all go through OTP's crypto NIF, which links against the OpenSSL the release was built with.
    A runner image without that libssl (or with another major version) boots into errors on the
    first request that touches a session.
    """,
    fix="Install the OpenSSL runtime the builder had (`openssl`/`libssl3` on Debian, `openssl` on Alpine) in "
        "the runner image, and build on the same distribution release.")

CACERTS = rule(
    "REL102", "ca-store-unreadable", Severity.WARNING, H, kind="release", subject=EVALUATED,
    title="The OS certificate store is empty or unreadable (`:public_key.cacerts_get/0` fails)",
    why="""
    Since OTP 25 the VM verifies TLS peers against the OS store. Without CA certificates every
    verified TLS connection (the database with `ssl: true`, payment or mail APIs, `Req`/`Finch`
    with defaults) fails at run time, not at boot.
    """,
    fix="Install `ca-certificates` in the runner image (Debian and Alpine use that name).")

ENCODING = rule(
    "REL103", "filename-encoding-latin1", Severity.WARNING, H, kind="release", subject=EVALUATED,
    title="The VM's file name encoding is latin1: the release runs without a UTF-8 locale",
    why="""
    The BEAM picks its native file name encoding from the locale at start. Under the C/POSIX locale
    of a bare container it is latin1: files with non-ASCII names (uploads, templates) cannot be
    opened, and Elixir prints a warning at every boot.
    """,
    fix="Set `LANG=en_US.UTF-8` (or `C.UTF-8`) with the locale generated in the runner image, or pass "
        "`+fnu` in `rel/vm.args.eex`.")

TZDATA = rule(
    "REL104", "tzdata-dir-read-only", Severity.WARNING, H, kind="release", subject=TZDATA_USED,
    title="tzdata is used but cannot write its data directory",
    why="""
    The tzdata library downloads new time zone releases at run time into its data directory, by
    default inside the release (`lib/tzdata-*/priv`). A release owned by root and run by another
    user, or a read-only root file system, makes every update fail and log errors.
    """,
    fix="Point `config :tzdata, :data_dir` at a writable directory (e.g. `/tmp/tzdata` or a volume) in "
        "runtime.exs, or turn updates off with `config :tzdata, :autoupdate, :disabled`.")

_RULES = {"crypto": CRYPTO, "cacerts": CACERTS, "encoding": ENCODING, "tzdata": TZDATA}


@record
class EvalResult:
    findings: list[Finding]
    passed: list[str]  # checks that passed, with what they found
    ran: bool = True  # False when `eval` failed before answering
    tzdata_used: bool | None = None  # tzdata is in the release (None: eval could not say)


def run_eval_checks(release: Release, env: dict[str, str], timeout: float) -> EvalResult:
    where = Location(path=f"bin/{release.name}")
    try:
        proc = subprocess.run([str(release.script), "eval", EVAL], env=env, cwd=release.root, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return EvalResult([EVAL_FAILED.finding(f"`bin/{release.name} eval` did not finish within {timeout:g} s",
                                               where, key="timeout")], [], ran=False)
    lines = [line.split(" ", 3)[1:] for line in proc.stdout.splitlines() if line.startswith(MARK + " ")]
    if proc.returncode != 0 or not lines:
        tail = failure_reason(proc.stdout + "\n" + proc.stderr)
        return EvalResult([EVAL_FAILED.finding(f"`bin/{release.name} eval` exited with {proc.returncode}: {tail}",
                                               where, key="exit")], [], ran=False)
    result = EvalResult([], [])
    for parts in lines:
        name, status, text = (parts + ["", ""])[:3]
        if name == "tzdata":
            result.tzdata_used = not (status == "ok" and text == "not used")
        if status == "ok":
            result.passed.append(f"{name}: {text}")
        elif name in _RULES:
            result.findings.append(_RULES[name].finding(f"{name}: {text}", where, key=name))
    return result
