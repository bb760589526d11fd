"""DEP001-DEP013: Dockerfiles that build and run a Mix release.

Only production Dockerfiles are judged: those that run `mix release` or that a deploy target builds,
and not the ones named for development (Dockerfile.dev, .gitpod, CI images).
"""

from __future__ import annotations

import fnmatch
import os
import re
from typing import TYPE_CHECKING

from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.patterns import has_word, lazy
from phoenix_ops.project.deploy.targets import for_development
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.assets import ASSETS
from phoenix_ops.rules.budgets import otp_release
from phoenix_ops.rules.facts import is_secret_key, placeholder

if TYPE_CHECKING:
    from phoenix_ops.project.deploy.dockerfile import Dockerfile, Stage

W, E, I = Severity.WARNING, Severity.ERROR, Severity.INFO
H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
# The packages each runtime library comes in (libssl3, libncurses6, ncurses-libs, libstdc++6), as
# words of an install command.
_RUNTIME_LIBS = {
    "openssl": lambda script: has_word(script, "openssl") or has_word(script, "libssl", end=False),
    "ncurses": lambda script: has_word(script, "libncurses", end=False) or has_word(script, "ncurses"),
    "libstdc++": lambda script: has_word(script, "libstdc++", end=False),
    "ca-certificates": lambda script: has_word(script, "ca-certificates"),
}
# The packages of one `apk add` (up to the next ; & | or line end).
_APK_ADD = lazy(r"\bapk\b[^\n;&|]*\badd\b([^\n;&|]*)")
# Alpine packages that depend on a library the release needs, so installing them installs it: bash
# (readline, then ncurses-libs), and the C++ programs (libstdc++).
_ALPINE_BRINGS = {"bash": "ncurses-libs", "nodejs": "libstdc++", "clang": "libstdc++", "g++": "libstdc++",
                  "build-base": "libstdc++"}
_INSTALL = lazy(r"\b(apt-get|apt|apk|microdnf|dnf|yum)\b[^\n;&|]*\b(install|add)\b")
_ASSETS = ("assets.deploy", "assets.build", "assets.setup", "phx.digest", "esbuild", "tailwind", "npm run", "yarn",
           "pnpm", "bun run")


def production_dockerfiles(project) -> list[Dockerfile]:
    return project.derived(_production_dockerfiles)  # every DEP rule on Dockerfiles and its subject asks


def _production_dockerfiles(project) -> list[Dockerfile]:
    used = {t.dockerfile.path for t in project.deploy.targets() if t.dockerfile is not None}
    found = []
    for d in project.deploy.dockerfiles:
        if d.error or not d.stages:
            continue
        if (d.path in used or d.builds_release) and not for_development(d.path):
            found.append(d)
    return found


def runtime_dockerfiles(project) -> list[Dockerfile]:
    """Production Dockerfiles whose image runs the app. One whose final stage builds the release
    and says nothing to run is a builder: its release is copied out (`docker cp`) to run elsewhere,
    so what a running image needs (a user, a locale, a slim base) is not asked of it."""
    return [d for d in production_dockerfiles(project) if d.runs or d.final.release_run is None]


def _releases(project) -> list[tuple[Dockerfile, Stage]]:
    """Production Dockerfiles with the stage that runs `mix release`."""
    return project.derived(_release_stages)


def _release_stages(project) -> list[tuple[Dockerfile, Stage]]:
    found = []
    for d in production_dockerfiles(project):
        stage = next((s for s in d.stages if s.release_run), None)
        if stage is not None:
            found.append((d, stage))
    return found


def _unparsed(project) -> str | None:
    """A Dockerfile that does not parse may be the one that builds the release."""
    broken = next((d.path for d in project.deploy.dockerfiles if d.error), None)
    return f"{broken} does not parse: whether it builds the release is unknown" if broken else None


DOCKERFILE = Subject("no production Dockerfile (none runs `mix release` or is built by a deploy target)",
                     lambda project: any(production_dockerfiles(project)), _unparsed)
DOCKER_RELEASE = Subject("no production Dockerfile runs `mix release`", lambda project: any(_releases(project)),
                         _unparsed)


def _first(stage, *words: str):
    """The first RUN of the stage whose script holds one of `words`."""
    return next((i for i in stage.all("RUN") if any(w in i.script for w in words)), None)


@rule("DEP001", "docker-single-stage", W, H, subject=DOCKER_RELEASE,
      title="The image that runs the release is the image that built it",
      why="""
      A single-stage build ships Elixir, Erlang's compiler, build-essential, git, node_modules and
      the source into production: an image several times larger, with more to patch and more for
      an attacker to use.
      """,
      fix="""
      Build in one stage (`FROM hexpm/elixir:... AS builder`) and copy only `_build/prod/rel/<app>`
      into a slim runtime stage (`FROM debian:<same release>-slim`), as `mix phx.gen.release --docker` does.
      """)
def docker_single_stage(project):
    for d, stage in _releases(project):
        if stage is d.final and d.runs:  # one that runs nothing is a builder (runtime_dockerfiles)
            yield docker_single_stage.finding(f"{d.path} runs `mix release` in its final stage ({stage.image})",
                                              Location(path=d.path, line=stage.line), key=d.path)


@rule("DEP002", "docker-mix-env-missing", E, H, subject=DOCKER_RELEASE,
      title="The build stage never sets MIX_ENV=prod",
      why="""
      Without MIX_ENV=prod, `mix release` builds the dev release: dev config, dev dependencies and
      code reloading in production, or a build that fails on missing dev-only config.
      """,
      fix='Add `ENV MIX_ENV="prod"` to the build stage before `mix deps.get`.')
def docker_mix_env(project):
    for d, stage in _releases(project):
        value = stage.env.get("MIX_ENV", (None, 0))[0] or stage.args.get("MIX_ENV", (None, 0))[0]
        inline = any(has_word(i.script, f"MIX_ENV={quote}prod", start=False) for i in stage.all("RUN")
                     for quote in ("", '"', "'"))
        if value != "prod" and not inline:
            release = stage.release_run
            yield docker_mix_env.finding(f"{d.path}: the stage running `mix release` has MIX_ENV "
                                         f"{value or 'unset'}", Location(path=d.path, line=release.line), key=d.path)


@rule("DEP003", "docker-deps-all-envs", I, H, subject=DOCKER_RELEASE,
      title="`mix deps.get` fetches every environment's dependencies",
      why="Dev and test dependencies are downloaded and cached into the build layer for nothing: slower builds.",
      fix="`RUN mix deps.get --only $MIX_ENV` (with `ENV MIX_ENV=prod` before it).")
def docker_deps_all(project):
    for d, stage in _releases(project):
        for i in stage.all("RUN"):
            for line in i.script.splitlines():
                if "mix deps.get" in line and "--only" not in line:
                    yield docker_deps_all.finding(f"{d.path}: `mix deps.get` without --only", Location(
                        path=d.path, line=i.line), key=d.path)
                    break


@rule("DEP004", "docker-steps-out-of-order", W, H, subject=DOCKER_RELEASE,
      title="Build steps out of order: deps after compile or assets, or the release not last",
      why="""
      `mix compile` and `assets.deploy` need the dependencies; `mix release` must come after both, or
      the release misses compiled code or digested assets. (Compile before or after assets are both
      right: Phoenix 1.7 digests first, 1.8 compiles first for colocated hooks.)
      """,
      fix="Order the build stage: deps.get, deps.compile, (assets.deploy and compile in either order), release.")
def docker_order(project):
    for d, stage in _releases(project):
        runs = stage.all("RUN")
        index = {name: next((n for n, i in enumerate(runs) if any(w in i.script for w in words)), None)
                 for name, words in (("deps", ("mix deps.get",)), ("compile", ("mix compile",)),
                                     ("assets", ("assets.deploy", "phx.digest")))}
        deps, release = index["deps"], runs.index(stage.release_run)
        later = [n for n in ("compile", "assets") if index[n] is not None]
        if deps is not None and any(index[n] < deps for n in later):
            yield docker_order.finding(f"{d.path}: `mix deps.get` comes after compile or assets", Location(
                path=d.path, line=runs[deps].line), key=f"{d.path}:deps")
        if any(index[n] > release for n in later):
            late = next(n for n in later if index[n] > release)
            yield docker_order.finding(f"{d.path}: {late} runs after `mix release`", Location(
                path=d.path, line=runs[index[late]].line), key=f"{d.path}:release")


@rule("DEP005", "docker-assets-not-built", W, M, subject=DOCKER_RELEASE & ASSETS,
      title="The project has assets but the Dockerfile never builds them",
      why="""
      Without `mix assets.deploy` (esbuild, tailwind, phx.digest) the release serves no CSS and JS,
      or stale files committed by hand, and without a digest manifest caching breaks.
      """,
      fix="`RUN mix assets.deploy` in the build stage after copying assets/ and before `mix release`.")
def docker_assets(project):
    for d, stage in _releases(project):
        if not any(word in i.script for s in d.stages for i in s.all("RUN") for word in _ASSETS):
            yield docker_assets.finding(f"{d.path} builds a release without building assets",
                                        Location(path=d.path, line=stage.line), key=d.path)


@rule("DEP006", "docker-runs-as-root", W, H, subject=DOCKERFILE,
      title="The runtime stage runs the release as root",
      why="""
      A remote code execution in the app, or a dependency, gets root in the container, which makes
      escaping to the host and tampering with the image far easier.
      """,
      fix="Create a user and switch to it in the final stage: `RUN useradd --create-home app` ... `USER app`"
          " (or `USER nobody` with files chowned to it).")
def docker_root(project):
    for d in runtime_dockerfiles(project):
        user = d.final.user
        if user is None or user.split(":")[0] in ("root", "0"):
            yield docker_root.finding(f"{d.path}: the final stage has no USER (runs as root)" if user is None
                                      else f"{d.path}: the final stage runs as {user}",
                                      Location(path=d.path, line=(d.final.last("USER") or d.final).line), key=d.path)


@rule("DEP007", "docker-base-unpinned", W, H, subject=DOCKERFILE,
      title="A base image is unpinned or `latest`",
      why="""
      An image without a tag (or `latest`) changes under you: a rebuild picks up a new Erlang or
      Debian release, and the builder and runner can drift apart (a release built against one
      OpenSSL fails to start on another).
      """,
      fix="Pin each FROM to a version tag, ideally with a date or digest (`debian:bookworm-20240904-slim`).")
def docker_unpinned(project):
    for d in production_dockerfiles(project):
        names = {s.name for s in d.stages if s.name}
        for s in d.stages:
            if s.image in names or s.image == "scratch":
                continue
            if s.unresolved:
                yield docker_unpinned.finding(f"{d.path}: FROM {s.raw_image} depends on a build argument with no "
                                              "default", Location(path=d.path, line=s.line),
                                              key=f"{d.path}:{s.raw_image}", confidence=L, severity=I)
                continue
            image = s.image.split("@")[0]
            tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else None
            if "@" not in s.image and (tag is None or tag == "latest"):
                yield docker_unpinned.finding(f"{d.path}: FROM {s.image} is not pinned to a version",
                                              Location(path=d.path, line=s.line), key=f"{d.path}:{s.image}")


@rule("DEP008", "docker-shell-form-cmd", W, M, subject=DOCKERFILE,
      title="CMD or ENTRYPOINT in shell form: the BEAM may not receive SIGTERM",
      why="""
      `CMD /app/bin/server` runs under `/bin/sh -c`. Unless the shell replaces itself with the
      command, the shell is PID 1 and does not forward SIGTERM: the release is killed after the
      platform's timeout instead of shutting down gracefully (open requests cut, jobs not drained).
      """,
      fix='Use the exec form: `CMD ["/app/bin/server"]`.')
def docker_shell_form(project):
    for d in runtime_dockerfiles(project):
        for cmd in ("ENTRYPOINT", "CMD"):
            ins = d.final.last(cmd)
            if ins is not None and not ins.exec_form:
                yield docker_shell_form.finding(f"{d.path}: {cmd} {' '.join(ins.args)} is in shell form",
                                                Location(path=d.path, line=ins.line), key=f"{d.path}:{cmd}")
                break


def secret_name(name: str) -> bool:
    return is_secret_key(name) or name in ("RELEASE_COOKIE", "ERLANG_COOKIE") or name.endswith("_API_KEY")


@rule("DEP009", "docker-secret-in-build", E, H, subject=DOCKERFILE,
      title="A secret is passed as a build ARG or baked in with ENV",
      why="""
      ENV values are stored in the image config and ARG values in its history (`docker history`
      shows them): anyone who can pull the image reads the secret, and it cannot be rotated without
      rebuilding every image that holds it.

      Less severe, as warnings: a build ARG named like a secret (it may carry none); a literal in a
      build stage the final image is not built on (it stays in the builder's cache and history, not
      in the image); a placeholder such as `nokey` in the final image, which leaks nothing but lets
      a container started without the real secret run with it instead of stopping. A build stage's
      placeholder, there so config compiles, is not reported.
      """,
      fix="""
      Give secrets to the running container (platform secrets, env at `docker run`), or to one build
      step with `RUN --mount=type=secret,id=...`.
      """)
def docker_secret(project):
    for d in production_dockerfiles(project):
        shipped = set()  # (name, line) the final stage holds, its own or inherited from a stage it builds on
        for s in reversed(d.stages):
            for name, (value, line) in s.env.items():
                if not secret_name(name) or not value or value.startswith("$") or (name, line) in shipped:
                    continue
                where = Location(path=d.path, line=line)
                if s is d.final:
                    shipped.add((name, line))
                    if placeholder(value):  # not a secret, but it hides a missing one
                        yield docker_secret.finding(
                            f"{d.path}: ENV {name} holds a placeholder ({len(value)} characters) in the final image: "
                            f"a container started without {name} runs with it instead of stopping",
                            where, key=f"{d.path}:{name}", severity=W)
                    else:
                        yield docker_secret.finding(f"{d.path}: ENV {name} holds a literal value", where,
                                                    key=f"{d.path}:{name}")
                elif not placeholder(value):  # a build stage's stand-in lets config compile: expected
                    yield docker_secret.finding(
                        f"{d.path}: ENV {name} holds a literal value in build stage {s.name or s.index} (not in the "
                        f"final image, but in the builder's cache and build history)", where,
                        key=f"{d.path}:{name}:{line}", severity=W)
            for name, (_, line) in {**d.global_args, **s.args}.items():
                if secret_name(name):
                    yield docker_secret.finding(f"{d.path}: ARG {name} passes a secret at build time",
                                                Location(path=d.path, line=line), key=f"{d.path}:{name}",
                                                severity=W)


@rule("DEP010", "docker-no-utf8-locale", W, M, subject=DOCKERFILE,
      title="The runtime image sets no UTF-8 locale",
      why="""
      Without a UTF-8 locale the BEAM starts with latin1 as its file name and I/O encoding: IO of
      non-ASCII text is mangled and Elixir warns at boot.
      """,
      fix='In the final stage: `ENV LANG=C.UTF-8` (or `en_US.UTF-8` with the locale generated).')
def docker_locale(project):
    for d in runtime_dockerfiles(project):
        env = d.final.env
        locale = " ".join((env.get(k, ("", 0))[0] or "").lower() for k in ("LANG", "LC_ALL"))
        if "utf8" not in locale and "utf-8" not in locale:
            yield docker_locale.finding(f"{d.path}: the final stage sets neither LANG nor LC_ALL to UTF-8",
                                        Location(path=d.path, line=d.final.line), key=d.path)


@rule("DEP011", "docker-runtime-libs-missing", E, M, subject=DOCKER_RELEASE,
      title="The runtime image lacks a library the release needs",
      why="""
      A release runs on the system's shared libraries: OpenSSL (crypto, TLS), ncurses (the shell and
      remote console), libstdc++ (the JIT and some NIFs) and CA certificates (verified TLS to the
      database or APIs). A bare Debian or Alpine image has not all of them: the release fails at
      boot or on the first TLS connection.
      """,
      fix="""
      Debian/Ubuntu: `apt-get install -y libstdc++6 openssl libncurses6 locales ca-certificates`;
      Alpine: `apk add --no-cache libstdc++ openssl ncurses-libs ca-certificates`.
      """)
def docker_runtime_libs(project):
    for d, stage in _releases(project):
        final = d.final
        if final is stage or not _bare_os(final.image):
            continue
        installs = " ".join(script for script in _run_scripts(project, d, final) if _INSTALL.search(script))
        if "alpine" in final.image:
            added = {word for packages in _APK_ADD.findall(installs) for word in packages.split()}
            installs += "".join(f" {lib}" for package, lib in _ALPINE_BRINGS.items() if package in added)
        # Alpine's base image already holds libcrypto/libssl and the CA bundle (apk needs them); Debian's
        # and Ubuntu's hold libstdc++ (apt is C++) and libtinfo, the part of ncurses ERTS links (bash needs it).
        wanted = ("ncurses", "libstdc++") if "alpine" in final.image else ("openssl", "ca-certificates")
        if (otp_release(project) or (99,))[0] < 24:
            wanted = tuple(lib for lib in wanted if lib != "libstdc++")  # no JIT before OTP 24
        missing = [lib for lib in wanted if not _RUNTIME_LIBS[lib](installs)]
        if missing:
            # Without CA certificates the release boots; only verified TLS through the OS store fails.
            severity = W if missing == ["ca-certificates"] else None
            yield docker_runtime_libs.finding(f"{d.path}: the runtime stage ({final.image}) installs no "
                                              f"{', '.join(missing)}", Location(path=d.path, line=final.line),
                                              key=d.path, severity=severity)


def _bare_os(image: str) -> bool:
    """The distribution's own image (debian, ubuntu:24.04, docker.io/library/alpine@sha256:...)."""
    name = image.removeprefix("docker.io/").removeprefix("library/")
    return any(name == distro or name.startswith((f"{distro}:", f"{distro}@")) for distro in ("debian", "ubuntu", "alpine"))


def _run_scripts(project, d: Dockerfile, stage: Stage) -> list[str]:
    """The stage's RUN scripts, each followed by the scripts it runs that a COPY took from the context
    (`COPY deps.sh ./` then `RUN sh deps.sh`): what they install is installed by the stage."""
    folder = os.path.dirname(d.path)
    copied = {os.path.basename(src): os.path.normpath(os.path.join(folder, src))
              for i in stage.all("COPY") if not any(a.startswith("--from") for a in i.args)
              for src in [a for a in i.args if not a.startswith("--")][:-1]}
    scripts = []
    for i in stage.all("RUN"):
        scripts.append(i.script)
        words = {os.path.basename(w) for w in i.script.split()}
        scripts += [text for name, path in copied.items() if name in words and (text := project.text(path))]
    return [script.replace("\\\n", " ") for script in scripts]  # a script file's continued lines, joined


def distribution(image: str) -> tuple[str, str] | None:
    """(distribution, release) of an image: `debian-bookworm-2024...` -> ("debian", "bookworm")."""
    m = re.search(r"(?:^|[-:/])(debian|ubuntu)[-:](\w+?)(?:-|$)", image)
    if m:
        return m.group(1), m.group(2)
    m = re.search(r"(?:^|[-:/])alpine[-:]?(\d+\.\d+)", image)
    if m:
        return "alpine", m.group(1)
    return None


@rule("DEP012", "docker-builder-runner-mismatch", E, M, subject=DOCKER_RELEASE,
      title="Builder and runner images are different distributions or releases",
      why="""
      The release's ERTS and NIFs link against the builder's libc and OpenSSL. On another
      distribution or release they fail to load (`GLIBC_2.34 not found`, a missing libcrypto), often
      only when a NIF is first used.
      """,
      fix="Use the same distribution and release in both stages: `hexpm/elixir:...-debian-bookworm-<date>-slim` "
          "with `debian:bookworm-<date>-slim`.")
def docker_mismatch(project):
    for d, stage in _releases(project):
        final = d.final
        if final is stage or final.unresolved or stage.unresolved:
            continue
        built, runs = distribution(stage.image), distribution(final.image)
        if built and runs and built != runs:
            yield docker_mismatch.finding(f"{d.path}: built on {' '.join(built)}, run on {' '.join(runs)}",
                                          Location(path=d.path, line=final.line), key=d.path)


_IGNORED = ("_build", "deps", ".env")


def _ignored(name: str, patterns: list[str]) -> bool:
    result = False
    for p in patterns:
        negate = p.startswith("!")
        p = p.lstrip("!").strip("/").removeprefix("**/")
        if p.endswith(("/*", "/**")):
            p = p.rsplit("/", 1)[0]
        if fnmatch.fnmatch(name, p) or p in ("*", "**"):
            result = not negate
    return result


def _copies_context(d) -> bool:
    return any(not any(f.startswith("--from") for f in i.flags) and any(a in (".", "./", "*") for a in i.args[:-1])
               for s in d.stages for i in [*s.all("COPY"), *s.all("ADD")])


@rule("DEP013", "docker-context-unfiltered", W, M, subject=DOCKERFILE,
      title="No .dockerignore keeps _build, deps and .env files out of the build context",
      why="""
      Every build uploads the whole context; `COPY . .` then copies local `_build` and `deps`
      (compiled for your machine, not the image) and `.env` files with real secrets into the layers.
      """,
      fix="Add a .dockerignore beside the Dockerfile listing at least `_build/`, `deps/`, `.env*` and `*.pem`.")
def docker_context(project):
    said = set()  # Dockerfiles beside each other share one .dockerignore: one finding on it
    for d in production_dockerfiles(project):
        folder = d.path.rpartition("/")[0]
        if folder not in project.deploy.dockerignore:
            folder = ""  # built with the project as the context, as `docker build -f dir/Dockerfile .`
        patterns = project.deploy.dockerignore.get(folder)
        if patterns is None:
            yield docker_context.finding(f"{d.path}: no .dockerignore", Location(path=d.path, line=1), key=d.path)
            continue
        # `.env` files reach the image only through a copy of the whole context (`COPY . .`).
        whole = _copies_context(d)
        wanted = _IGNORED if whole else _IGNORED[:2]
        missing = [n for n in wanted if not _ignored(n, patterns)]
        if missing and (folder, whole) not in said:
            said.add((folder, whole))
            # Without `COPY . .` they only slow every build down: nothing reaches the image.
            yield docker_context.finding(f".dockerignore does not exclude {', '.join(missing)}"
                                         + ("" if whole else " (the Dockerfile copies named folders only)"),
                                         Location(path=f"{folder}/.dockerignore".lstrip("/"), line=1), key=d.path,
                                         severity=None if whole else I)
