"""`env check`: the variables an env file sets, judged against the contract for one environment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from phoenix_ops.envcontract import rules as R
from phoenix_ops.envcontract.contract import Contract, Variable
from phoenix_ops.envcontract.convert import NO_WORDS, boolean_problem, conversion_problem
from phoenix_ops.envcontract.dotenv import Entry, Malformed
from phoenix_ops.envcontract.names import closest, runtime_owned
from phoenix_ops.findings import Confidence, Finding, Location, Severity

@dataclass
class EnvSet:
    """What a deploy hands the release: the entries of its env files, a later file overriding."""

    files: list[str]
    entries: list[Entry] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)

    def final(self) -> dict[str, Entry]:
        return {e.key: e for e in self.entries}


def check_env(contract: Contract, env: str, env_set: EnvSet) -> list[Finding]:
    findings = [*_file_findings(env_set), *_incomplete(contract)]
    final = env_set.final()
    known = {v.name: v for v in contract.in_env(env)}
    for var in known.values():
        entry = final.get(var.name)
        if entry is None:
            findings.extend(_missing(contract, var, env, env_set))
        elif entry.checkable:
            findings.extend(_value(contract, var, env, entry))
    for entry in final.values():
        if entry.key not in known and not runtime_owned(entry.key):
            findings.append(_unknown(contract, entry, list(known), final))
    return sorted(findings, key=Finding.sort_key)


def _at(entry: Entry | Malformed) -> Location:
    return Location(path=entry.file, line=entry.line)


def _file_findings(env_set: EnvSet) -> Iterator[Finding]:
    for bad in env_set.malformed:
        yield R.FILE_MALFORMED.finding(f"line {bad.line} is not read: {bad.reason}", _at(bad), key=bad.reason)
    seen: dict[tuple[str, str], Entry] = {}
    for entry in env_set.entries:
        first = seen.setdefault((entry.file, entry.key), entry)
        if first is not entry:
            yield R.DUPLICATE_KEY.finding(f"{entry.key} is assigned again (first on line {first.line})",
                                          _at(entry), key=entry.key)


def _incomplete(contract: Contract) -> Iterator[Finding]:
    """One finding per config file, at its first unreadable statement."""
    by_file: dict[str, list] = {}
    for op in contract.opaque:
        by_file.setdefault(op.file, []).append(op)
    for file, ops in by_file.items():
        more = f" and {len(ops) - 1} more like it" if len(ops) > 1 else ""
        yield R.CONTRACT_INCOMPLETE.finding(
            f"`{ops[0].text}`{more} may read env variables phoenix-ops cannot see; the contract is incomplete",
            Location(path=file, line=ops[0].line), key=file)


def _baked(contract: Contract, env: str) -> bool:
    """Whether compile-time config is frozen into a build: releases, except dev and test, which
    Mix evaluates afresh at every start."""
    return contract.release_mode == "release" and env not in ("dev", "test")


def _missing(contract: Contract, var: Variable, env: str, env_set: EnvSet) -> Iterator[Finding]:
    required = [p for p in var.places_in(env) if p.required]
    if not required:
        return
    where = ", ".join(p.where for p in required)
    at = Location(path=env_set.files[0]) if env_set.files else Location()
    if not var.required_in(env):
        when = " and ".join(next(p.when[env] for p in required if p.when[env]))
        yield R.REQUIRED_MISSING.finding(
            f"{var.name} is not set; it is required in {env} when {when} ({where})", at,
            key=var.name, severity=Severity.WARNING, confidence=Confidence.LOW)
    elif _baked(contract, env) and all(p.phase == "compile" for p in required):
        yield R.REQUIRED_MISSING.finding(
            f"{var.name} is not set; it is required when the {env} release is built ({where}), "
            "so it belongs to the build environment", at, key=var.name, severity=Severity.WARNING,
            confidence=Confidence.MEDIUM)
    else:
        in_lib = all(p.lib for p in required)
        yield R.REQUIRED_MISSING.finding(
            f"{var.name} is required in {env} ({where}) but not set" +
            ("; that code raises when it runs" if in_lib else "; the release will not boot"), at, key=var.name,
            confidence=Confidence.MEDIUM if in_lib else None)


def _value(contract: Contract, var: Variable, env: str, entry: Entry) -> Iterator[Finding]:
    value = entry.value or ""
    places = var.places_in(env)
    if var.name in contract.secret_key_base or var.name == "SECRET_KEY_BASE":
        size = len(value.encode())
        if size < 64:
            yield R.SECRET_KEY_BASE_SHORT.finding(f"{var.name} is {size} bytes long; Phoenix needs at least 64",
                                                  _at(entry), key=var.name)
    elif value == "" and var.required_in(env) and not var.types:
        yield R.REQUIRED_EMPTY.finding(f"{var.name} is set but empty; the boot-time check lets it through",
                                       _at(entry), key=var.name)
    if var.name in contract.url_host and any(ch in value for ch in ":/ "):
        yield R.HOST_NOT_A_HOSTNAME.finding(f"{var.name} holds more than a host name (a scheme, port, path or space)",
                                            _at(entry), key=var.name)
    for kind, dotenvy in sorted({(p.convert, p.how == "env!") for p in places if p.convert}):
        read_at = next(p.where for p in places if (p.convert, p.how == "env!") == (kind, dotenvy))
        problem = conversion_problem(kind, value, dotenvy=dotenvy)
        if problem:
            yield R.VALUE_NOT_CONVERTIBLE.finding(f"{var.name} {problem} (read as {kind} at {read_at})",
                                                  _at(entry), key=var.name)
        elif kind == "boolean" and (problem := boolean_problem(value, dotenvy=dotenvy)):
            yield R.BOOLEAN_UNRECOGNISED.finding(f"{var.name} {problem} (read at {read_at})", _at(entry),
                                                 key=var.name)
    if var.types == ["presence"] and (value == "" or value.lower() in NO_WORDS):
        yield R.PRESENCE_FLAG_FALSE.finding(
            f"{var.name} looks like it turns the setting off, but the config only checks that it is set, "
            "so the setting is on", _at(entry), key=var.name)
    if _baked(contract, env) and places and all(p.phase == "compile" for p in places):
        yield R.COMPILE_TIME_ONLY.finding(
            f"{var.name} is read only at compile time ({', '.join(p.where for p in places)}); "
            "setting it here does not change a built release", _at(entry), key=var.name)


def _unknown(contract: Contract, entry: Entry, known: list[str], final: dict[str, Entry]) -> Finding:
    near = closest(entry.key, known)
    if near:
        hint = f"rename it to {near}" + ("" if near in final else f"; {near} is not set otherwise")
        return R.NAME_TYPO.finding(f"{entry.key} is not read by the config; did you mean {near}?", _at(entry),
                                   key=entry.key, hint=hint)
    confidence = None if contract.complete else Confidence.LOW
    return R.UNKNOWN_VARIABLE.finding(f"{entry.key} is not read anywhere phoenix-ops can see", _at(entry),
                                      key=entry.key, confidence=confidence)
