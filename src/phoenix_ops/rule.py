"""How a rule of any kind is declared: id, name, defaults and page, beside the check that emits it.

    @rule("REL001", "endpoint-never-starts", Severity.ERROR, Confidence.HIGH, kind="static",
          title="...", why="...", fix="...")
    def endpoint_never_starts(project):          # the decorated name is the Rule itself
        yield endpoint_never_starts.finding(...)

A rule that judges something a project may not have (Oban, clustering, migrations, a Dockerfile) names
it as its `subject`: the check runs only when the subject is present, and a report says "not
applicable" with the subject's words otherwise, so that condition is written once. When the files
cannot tell (a query set by code the evaluator does not read), the subject's `unknown` says why and
the report says "not determined": the rule is not run, and no absence is claimed. A live rule's
subject reads what the command looked at instead of a project (a cluster view, a scrape, a probed site).

A check that builds its findings inline (a probe step, an env-file check) declares its rule the same
way without decorating anything: `UNREACHABLE = rule("WEB140", ..., kind="probe")`. Nothing is
registered on import: `phoenix_ops.catalog` collects the rules of the modules it imports.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping

from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.record import record

AREAS = {
    "REL": "releases & runtime config",
    "SEC": "secrets",
    "CLU": "clustering, PubSub, Presence",
    "OBS": "telemetry, logging, metrics",
    "WEB": "HTTP & network hardening",
    "AST": "assets & static delivery",
    "JOB": "background jobs",
    "DEP": "deployment files & patterns",
    "MIG": "migrations",
    "HLT": "health & readiness",
    "OPS": "the audit itself: unparsable files, suppressions, settings",
}

# What every rule page of an area adds after its own fix.
AREA_NOTES = {
    "MIG": "Migrations that ran in production long ago are history: `start-after = \"20240101000000\"`\n"
           "in `.phoenix-ops.toml` leaves out every migration up to that version. `check` suggests one\n"
           "when most of these findings come from migrations more than a year older than the newest.",
}

_STATIC, _LIVE, _CLUSTER = range(1, 100), range(100, 150), range(150, 200)
# What a kind of rule judges, and the id numbers it uses (so parallel areas never collide).
KINDS = {
    "static": ("the project's files, read by `check`", _STATIC),
    "audit": ("the audit's own inputs: unreadable files, suppressions, settings", _STATIC),
    "envfile": ("an env file or deploy target against the env contract (`env check`)", _STATIC),
    "probe": ("a running endpoint, from outside (`probe`)", _LIVE),
    "jobs": ("Oban's tables in PostgreSQL (`jobs`)", _LIVE),
    "metrics": ("a Prometheus scrape of a node (`metrics`)", _LIVE),
    "release": ("a built release booted on loopback (`release verify`)", _LIVE),
    "deploy": ("a rollout in progress (`deploy`)", _LIVE),
    "cluster": ("BEAM nodes over the distribution protocol (`cluster`)", _CLUSTER),
}
# What ids (an area and three digits) and kebab-case names are made of: checked for every rule
# declared, on every run, where a regular expression would cost more than the check.
_DIGITS = frozenset("0123456789")
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


NOT_APPLICABLE, NOT_DETERMINED = "not applicable", "not determined"


@record(frozen=True)
class Subject:
    """What a rule judges, when a project may lack it: `present(project)`, the words for its absence,
    and `unknown(project)`: why the files cannot tell, when present() is False only for want of reading.
    `a & b` needs both (a Dockerfile that builds a release, and an asset pipeline)."""

    absent: str = ""  # "Oban is not a dependency"
    present: Callable[..., bool] | None = None
    unknown: Callable[..., str | None] | None = None
    parts: tuple[Subject, ...] = ()  # set by `&` instead of the three above

    def standing(self, project) -> tuple[str, str] | None:
        """None when the subject is there to judge; else (NOT_APPLICABLE or NOT_DETERMINED, why).
        Of several parts, one surely absent outweighs one that cannot be told."""
        if self.parts:
            found = [s for s in (part.standing(project) for part in self.parts) if s]
            return min(found, key=lambda s: s[0] != NOT_APPLICABLE, default=None)
        if self.present(project):
            return None
        why = self.unknown(project) if self.unknown else None
        return (NOT_DETERMINED, why) if why else (NOT_APPLICABLE, self.absent)

    def __and__(self, other: Subject) -> Subject:
        return Subject(parts=(*(self.parts or (self,)), *(other.parts or (other,))))


@record(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    confidence: Confidence
    title: str  # one line: what the rule finds
    # The page's texts as declared, indented like the code around them: read through `why`, `fix`
    # and `raised`, dedented when first shown (most runs show none of them).
    why_text: str  # why it matters in production
    fix_text: str  # how to fix it
    kind: str
    check: Callable[..., Iterable[Finding]] | None = None
    # Set when some findings are more severe than `severity`: to what, and in which case.
    raised_text: str = ""
    # Information only (a grade, an inventory): its findings never set a command's exit code.
    informational: bool = False
    subject: Subject | None = None

    def __call__(self, check: Callable[..., Iterable[Finding]]) -> Rule:
        """Used as a decorator: the check function becomes this rule's check (run only on its subject).
        The declaration is shared with nothing yet: it is completed in place rather than copied."""
        object.__setattr__(self, "check", check if self.subject is None else _on_subject(check, self.subject))
        return self

    def standing(self, project) -> tuple[str, str] | None:
        """None when the rule has its subject to judge in `project`; else (NOT_APPLICABLE or
        NOT_DETERMINED, why)."""
        return self.subject.standing(project) if self.subject is not None else None

    @property
    def area(self) -> str:
        return self.id[:3]

    @property
    def why(self) -> str:
        return _dedent(self.why_text)

    @property
    def fix(self) -> str:
        note = AREA_NOTES.get(self.area)
        return f"{_dedent(self.fix_text)}\n\n{note}" if note else _dedent(self.fix_text)

    @property
    def raised(self) -> str:
        return _dedent(self.raised_text)

    @property
    def hint(self) -> str:
        """The first paragraph of the fix, on one line: the default hint of a finding."""
        lines = self.fix_text.strip().split("\n")
        end = next((i for i, line in enumerate(lines) if i and not line.strip(" \t")), len(lines))
        return " ".join(" ".join(lines[:end]).split())

    def finding(
        self,
        message: str,
        location: Location,
        *,
        hint: str | None = None,
        key: str = "",
        severity: Severity | None = None,
        confidence: Confidence | None = None,
    ) -> Finding:
        return Finding(
            rule_id=self.id,
            name=self.name,
            severity=severity or self.severity,
            confidence=confidence or self.confidence,
            message=message,
            hint=self.hint if hint is None else hint,
            location=location,
            key=key,
        )


def _on_subject(check: Callable[..., Iterable[Finding]], subject: Subject) -> Callable[..., Iterable[Finding]]:
    @functools.wraps(check)
    def on_subject(project) -> Iterable[Finding]:
        return check(project) if subject.standing(project) is None else ()

    return on_subject


def standings(rules: Iterable[Rule], models: Iterable | Mapping[str, Iterable]) -> dict[str, dict[str, str]]:
    """What a report's checklist says of the rules whose subject is missing from what they judged
    (`models`: the project, or each view a live command took; or those by rule kind, when rules of
    several kinds judge different things): rule id -> why, under "not_applicable" and
    "not_determined". A rule applies when any model has its subject; else one model that cannot tell
    makes it not determined."""
    by_kind = {kind: list(views) for kind, views in models.items()} if isinstance(models, Mapping) else None
    models = [] if by_kind is not None else list(models)
    out: dict[str, dict[str, str]] = {"not_applicable": {}, "not_determined": {}}
    for r in rules:
        found = [r.standing(m) for m in (by_kind.get(r.kind, []) if by_kind is not None else models)]
        if found and all(found):
            state, why = min(found, key=lambda s: s[0] != NOT_DETERMINED)
            out["not_applicable" if state == NOT_APPLICABLE else "not_determined"][r.id] = why
    return out


def rule(rule_id: str, name: str, severity: Severity, confidence: Confidence, *,
         title: str, why: str, fix: str, kind: str = "static", raised: str = "",
         informational: bool = False, subject: Subject | None = None) -> Rule:
    """Declare a rule; decorate its check with the result, or keep it to build findings from."""
    area, number = rule_id[:3], rule_id[3:]
    if area not in AREAS or len(number) != 3 or not _DIGITS.issuperset(number):
        raise ValueError(f"bad rule id {rule_id!r}")
    if kind not in KINDS:
        raise ValueError(f"{rule_id}: unknown kind {kind!r}")
    numbers = KINDS[kind][1]
    if int(number) not in numbers:
        raise ValueError(f"{rule_id}: {kind} rules use numbers {numbers.start}-{numbers.stop - 1}")
    if not all(part and _NAME_CHARACTERS.issuperset(part) for part in name.split("-")):
        raise ValueError(f"{rule_id}: rule names are kebab-case, not {name!r}")
    return Rule(rule_id, name, severity, confidence, title.strip(), why, fix, kind,
                raised_text=raised, informational=informational, subject=subject)


@functools.cache
def _dedent(text: str) -> str:
    import textwrap  # only a rule's page needs it: most runs show none

    return textwrap.dedent(text).strip()
