"""The contract for people (a table), for machines (JSON) and for the repository (.env.example)."""

from __future__ import annotations

import json

from phoenix_ops import __version__
from phoenix_ops.envcontract.contract import Contract, Variable

SCHEMA_VERSION = 1
FORMATS = ("text", "json", "dotenv-example", "html")
_EXAMPLE_TYPES = {"presence": "flag: any value turns it on, even false"}
_MAX_OPAQUE = 10  # helper-macro configs (firezone) have hundreds; the JSON keeps every one
_PHASES = "compile: read when the release is built and baked into it; runtime: read at boot, or by lib/ code when it runs"


def render_contract(contract: Contract, fmt: str, summary: dict) -> str:
    if fmt == "json":
        return json.dumps(contract_json(contract, summary), indent=2) + "\n"
    if fmt == "dotenv-example":
        return dotenv_example(contract)
    if fmt == "text":
        return text_table(contract)
    if fmt == "html":
        from phoenix_ops.report import render
        required = {e: sum(v.required_in(e) for v in contract.variables.values()) for e in contract.envs}
        headline = (f"{len(contract.variables)} variables; required: "
                    + ", ".join(f"{required[e]} in {e}" for e in contract.envs))
        every_env = {k: v for k, v in summary.items() if k != "env"}  # the contract covers `environments`
        return render([], "html", tool="env", extra={"project": every_env, "headline": headline,
                                                     "environments": contract.envs,
                                                     "tables": [contract_table(contract)]})
    raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")


def required_label(var: Variable, envs: list[str]) -> str:
    hard = [e for e in envs if var.required_in(e)]
    soft = [e for e in envs if var.conditionally_required_in(e)]
    if len(envs) == 1:
        return "yes" if hard else "conditional" if soft else "no"
    return ", ".join(hard + [f"{e} (conditional)" for e in soft]) or "no"


def _need(var: Variable, envs: list[str]) -> str:
    label = required_label(var, envs)
    if label == "no":
        return "optional"
    return "required" if label == "yes" else f"required ({label})" if len(envs) == 1 else f"required in {label}"


def contract_table(contract: Contract, present: set[str] | None = None) -> dict:
    """The contract as a report table; with `present`, a column says whether the env files set each one
    (never with its value)."""
    envs = contract.envs
    columns = ["Variable", "Required", "Type", "Default", "Phase", "Environments", "Read at"]
    rows = []
    for var in contract.variables.values():
        notes = "; ".join(_condition_notes(var))
        read_at = ", ".join(p.where for p in var.places) + (f" ({notes})" if notes else "")
        row = [var.name, required_label(var, envs), ", ".join(var.types) or "string", _default_label(var),
               ", ".join(var.phases), _envs_label(var, envs), read_at]
        if present is not None:
            row.insert(2, "yes" if var.name in present else "no")
        rows.append(row)
    if present is not None:
        columns.insert(2, "Set in the env files")
    return {"title": f"Env contract of {contract.app}", "columns": columns, "rows": rows,
            "note": f"Phase — {_PHASES}." + ("" if contract.complete else
                                             " Incomplete: some config statements could not be read.")}


def _condition_notes(var: Variable) -> list[str]:
    every = [p.where for p in var.places]
    return [f"{'read' if where == every else ', '.join(where)} only when {cond}"
            for cond, where in var.conditional_places().items()]


def _envs_label(var: Variable, envs: list[str]) -> str:
    return "all" if var.envs == envs and len(envs) > 1 else ", ".join(var.envs)


def _default_label(var: Variable) -> str:
    return " | ".join(d if d else '""' for d in var.defaults) or "-"


def text_table(contract: Contract) -> str:
    envs = contract.envs
    head = ["VARIABLE", "REQUIRED", "TYPE", "DEFAULT", "PHASE", "ENVS", "READ AT"]
    rows = [[var.name, required_label(var, envs), ", ".join(var.types) or "string", _default_label(var),
             ", ".join(var.phases), _envs_label(var, envs), ", ".join(p.where for p in var.places)]
            for var in contract.variables.values()]
    notes = [_condition_notes(var) for var in contract.variables.values()]
    # The last column (places) is left unpadded: it is the long one.
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]

    def line(row: list[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1]

    out = [f"Env contract of {contract.app} · environments: {', '.join(envs)}", ""]
    out += [line(head)] if rows else ["(no environment variables are read)"]
    for row, row_notes in zip(rows, notes):
        out += [line(row), *(f"    {note}" for note in row_notes)]
    required = {e: sum(v.required_in(e) for v in contract.variables.values()) for e in envs}
    out += ["", f"{len(rows)} variables; required: " + ", ".join(f"{required[e]} in {e}" for e in envs),
            f"phase — {_PHASES}"]
    return "\n".join(out + _incomplete_lines(contract, "")) + "\n"


def _incomplete_lines(contract: Contract, prefix: str) -> list[str]:
    if contract.complete:
        return []
    lines = ["", f"{prefix}INCOMPLETE: phoenix-ops cannot read these statements; they may read more variables:"]
    lines += [f"{prefix}  {op.file}:{op.line}  {op.text}" for op in contract.opaque[:_MAX_OPAQUE]]
    if len(contract.opaque) > _MAX_OPAQUE:
        lines.append(f"{prefix}  … and {len(contract.opaque) - _MAX_OPAQUE} more (`--format json` lists them all)")
    return lines


def contract_json(contract: Contract, summary: dict) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "phoenix-ops", "version": __version__, "command": "env"},
        "project": summary,
        "environments": contract.envs,
        "complete": contract.complete,
        "opaque": [{"file": o.file, "line": o.line, "text": o.text} for o in contract.opaque],
        "variables": [{
            "name": v.name,
            "required_in": [e for e in contract.envs if v.required_in(e)],
            "conditionally_required_in": [e for e in contract.envs if v.conditionally_required_in(e)],
            "environments": v.envs,
            "types": v.types,
            "defaults": v.defaults,
            "phases": v.phases,
            "conditions": v.conditions,
            "places": [{"file": p.file, "line": p.line, "phase": p.phase, "how": p.how, "required": p.required,
                        "default": p.default, "type": p.convert, "lib": p.lib,
                        "environments": {e: list(c) for e, c in sorted(p.when.items())}} for p in v.places],
        } for v in contract.variables.values()],
    }


def dotenv_example(contract: Contract) -> str:
    """A committable .env.example: names and what they need, never a value from anywhere."""
    out = [(f"# Environment variables read by {contract.app} "
            f"({', '.join(contract.envs)}), generated by `phoenix-ops env --format dotenv-example`."),
           "# Required variables are left empty to fill in; optional ones are commented out."]
    out += _incomplete_lines(contract, "# ")
    for var in contract.variables.values():
        facts = [_need(var, contract.envs), ", ".join(_EXAMPLE_TYPES.get(t, t) for t in var.types) or "string"]
        if var.defaults:
            facts.append(f"default {_default_label(var)}")
        facts.append(", ".join(var.phases))
        out += ["", "# " + " · ".join(facts), "# read at " + ", ".join(p.where for p in var.places)]
        out += [f"# {note}" for note in _condition_notes(var)]
        out.append(f"{var.name}=" if any(var.required_in(e) for e in contract.envs) else f"# {var.name}=")
    return "\n".join(out) + "\n"
