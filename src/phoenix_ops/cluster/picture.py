"""A picture of the cluster: each partition a coloured ring of nodes, lines for who sees whom.

Solid lines join nodes that see each other, dashed red arrows show one-way visibility, and nodes
the doctor could not reach stand in a grey row below with the reason.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

from phoenix_ops.cluster.view import ClusterView, NodeReport, count

PALETTE = ("#2b7bb9", "#d9822b", "#3c9a5f", "#9b59b6", "#c0392b", "#16a085", "#7f8c8d", "#b7950b")
NODE_R, MARGIN, ROW_H = 9, 40, 34
MAX_WIDTH = 1600  # partitions wrap into rows past this


def _ring(count: int) -> float:
    return max(60.0, 10.0 * count)


def _label(x: float, y: float, cx: float, cy: float) -> tuple[float, float, str]:
    """Put a node's name outside its ring: beside it on the flanks, above or below at the poles."""
    angle = math.atan2(y - cy, x - cx)
    if abs(math.cos(angle)) > 0.2:
        return (x + 14, y + 4, "start") if x > cx else (x - 14, y + 4, "end")
    return (x, y - 14, "middle") if y < cy else (x, y + 24, "middle")


Places = dict[str, tuple[float, float, int]]  # node -> (x, y, partition index)
Rings = list[tuple[float, float, float]]  # per partition: (cx, cy, r)


def _layout(groups: list[list[str]]) -> tuple[Places, Rings, float, float]:
    """Partitions left to right, wrapping into rows; returns places, rings, width and height."""
    label_room = 7.0 * max((len(n) for g in groups for n in g), default=0)  # ~7 px a character
    places, rings, width = {}, [], 0.0
    x, top, row_r = MARGIN + label_room, MARGIN + 60.0, 0.0
    for index, group in enumerate(groups):
        r = _ring(len(group))
        if rings and x + 2 * r + label_room > MAX_WIDTH:  # a split into many parts: next row
            x, top, row_r = MARGIN + label_room, top + 2 * row_r + 110, 0.0
        row_r = max(row_r, r)
        cx, cy = x + r, top + r
        rings.append((cx, cy, r))
        for i, name in enumerate(group):
            angle = -math.pi / 2 + 2 * math.pi * i / len(group)
            spoke = r if len(group) > 1 else 0.0  # a lone node sits in the middle of its ring
            places[name] = (cx + spoke * math.cos(angle), cy + spoke * math.sin(angle), index)
        x += 2 * r + 2 * label_room + 40
        width = max(width, x)
    return places, rings, width, top + 2 * row_r + 90


def _arrow(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float]:
    """Stop a one-way line at the target node's edge so the arrowhead shows."""
    d = math.hypot(x2 - x1, y2 - y1) or 1.0
    return x2 - (x2 - x1) * (NODE_R + 2) / d, y2 - (y2 - y1) * (NODE_R + 2) / d


def render_svg(view: ClusterView) -> str:
    groups = view.partitions()
    places, rings, width, height = _layout(groups)
    sees = view.sees()
    outside = sorted((n for n in view.nodes if n.name not in places), key=lambda n: n.name)
    # ~7 px a character: the rows below the rings name each node with its reason
    width = max(width, 480.0, *(MARGIN + 40 + 7.0 * len(f"{n.name}: {_outside_reason(n)}") for n in outside))
    total_h = height + (len(outside) * ROW_H + 40 if outside else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{total_h:.0f}" '
        f'viewBox="0 0 {width:.0f} {total_h:.0f}" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker></defs>',
        f'<text x="{MARGIN}" y="24" font-size="15" font-weight="bold">{_title(view, groups)}</text>',
    ]
    for index, (cx, cy, r) in enumerate(rings):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r + 26:.1f}" fill="{colour}" fill-opacity="0.08" '
                     f'stroke="{colour}" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{cx:.1f}" y="{cy + r + 46:.1f}" text-anchor="middle" fill="{colour}">'
                     f'partition {index + 1} · {count(len(groups[index]), "node")}</text>')
    for a, seen in sorted(sees.items()):
        for b in sorted(seen):
            (x1, y1, pa), (x2, y2, _) = places[a], places[b]
            if a in sees.get(b, ()):
                if a < b:
                    colour = PALETTE[pa % len(PALETTE)]
                    parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                                 f'stroke="{colour}" stroke-opacity="0.45"/>')
            else:
                ex, ey = _arrow(x1, y1, x2, y2)
                parts.append(f'<line class="one-way" x1="{x1:.1f}" y1="{y1:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" '
                             f'stroke="#c0392b" stroke-width="2" stroke-dasharray="5 3" marker-end="url(#arrow)">'
                             f'<title>{escape(a)} sees {escape(b)}, not the reverse</title></line>')
    for name, (x, y, index) in places.items():
        colour = PALETTE[index % len(PALETTE)]
        lx, ly, anchor = _label(x, y, rings[index][0], rings[index][1])
        parts.append(f'<g class="node"><circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_R}" fill="{colour}"/>'
                     f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">{escape(name)}</text>'
                     f'<title>{escape(_tooltip(view, name))}</title></g>')
    y = height
    if outside:
        parts.append(f'<text x="{MARGIN}" y="{y:.0f}" font-weight="bold">not in the picture above</text>')
    for n in outside:
        y += ROW_H
        parts.append(f'<g class="node outside"><circle cx="{MARGIN + 10}" cy="{y - 4:.0f}" r="{NODE_R}" '
                     f'fill="#ddd" stroke="{"#999" if n.hidden else "#c0392b"}" stroke-width="2"/>'
                     f'<text x="{MARGIN + 28}" y="{y:.0f}">{escape(n.name)}: {escape(_outside_reason(n))}</text></g>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _title(view: ClusterView, groups: list[list[str]]) -> str:
    members = sum(len(g) for g in groups)
    state = "split into %d partitions" % len(groups) if len(groups) > 1 else "connected" if groups else "no members"
    return escape(f"BEAM cluster: {count(members, 'member')}, {state}")


def _tooltip(view: ClusterView, name: str) -> str:
    node = next(n for n in view.nodes if n.name == name)
    f = node.facts
    seen = ", ".join(f.visible or []) or "nobody"
    return f"{name}\nOTP {f.otp_release or '?'}, ERTS {f.erts_version or '?'}\nsees: {seen}"


def _outside_reason(n: NodeReport) -> str:
    if n.hidden:
        return "hidden node (a remote shell or tool), not a member"
    if n.reached:
        return "reached, but its nodes() call failed"
    return f"{n.error_kind}: {n.error}"


def render_html(view: ClusterView) -> str:
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>phoenix-ops cluster</title>"
        "<style>body{font-family:sans-serif;margin:2em}p.legend span{margin-right:2em}</style></head><body>\n"
        "<h1>phoenix-ops cluster</h1>\n"
        "<p class=\"legend\"><span>● a node, coloured by partition</span><span>— the two nodes see each other</span>"
        "<span style=\"color:#c0392b\">⇢ one-way: only the tail sees the head</span>"
        "<span>grey: not reached, or hidden</span></p>\n"
        + render_svg(view) + "</body></html>\n"
    )


def write_picture(view: ClusterView, path: Path) -> None:
    """SVG for a .svg file, HTML (the SVG with a legend) for anything else."""
    path.write_text(render_svg(view) if path.suffix.lower() == ".svg" else render_html(view), encoding="utf-8")
