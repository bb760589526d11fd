"""YAML files as documents whose mappings know their line; Helm templates recognised, not parsed."""

from __future__ import annotations

from phoenix_ops.patterns import lazy
from phoenix_ops.record import record

# `{{ .Values.x }}` and friends: the file is a Go template, YAML only after `helm template`.
TEMPLATE = lazy(r"\{\{-?\s*[.$a-zA-Z(/\-]")


class Map(dict):
    """A YAML mapping that remembers the line it starts on."""

    line: int = 0


class Seq(list):
    line: int = 0


@record
class YamlDoc:
    path: str
    index: int  # the document's position in a multi-document file
    line: int
    data: object

    def get(self, *keys, default=None):
        return dig(self.data, *keys, default=default)


@record
class YamlFile:
    path: str
    docs: list[YamlDoc]
    error: str | None = None  # a parse error, with its line
    error_line: int = 0
    template: bool = False  # a Helm / Go template: not evaluated


def dig(data, *keys, default=None):
    """data[k1][k2]... through mappings (str keys) and lists (int keys); default when absent."""
    for key in keys:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return default
    return data


def line_of(node, fallback: int = 0) -> int:
    return getattr(node, "line", 0) or fallback


# Aliases share one object, so a "billion laughs" document loads small but describes an exponential
# tree that any walk over it would follow. Documents that expand beyond this many nodes are refused.
MAX_EXPANDED_NODES = 1_000_000


def expanded_size(value, memo: dict[int, int] | None = None) -> int:
    """Nodes in `value` with every alias expanded, counted once per shared object (linear time)."""
    memo = {} if memo is None else memo
    if id(value) in memo:
        return memo[id(value)]
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    size = 1
    for child in children:
        size += expanded_size(child, memo)
        if size > MAX_EXPANDED_NODES:
            break
    memo[id(value)] = size
    return size


def read_yaml(path: str, text: str) -> YamlFile:
    if TEMPLATE.search(text):
        return YamlFile(path, [], template=True)
    import yaml

    try:
        docs = [YamlDoc(path, i, line_of(d, 1), d) for i, d in enumerate(yaml.load_all(text, Loader=_loader()))
                if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        return YamlFile(path, [], f"{getattr(exc, 'problem', None) or exc}", line)
    memo: dict[int, int] = {}
    try:
        too_big = any(expanded_size(d.data, memo) > MAX_EXPANDED_NODES for d in docs)
    except RecursionError:
        too_big = True
    if too_big:
        return YamlFile(path, [], f"nested too deep, or its aliases expand to over {MAX_EXPANDED_NODES:,} nodes: "
                                  f"not read (an alias bomb)", 1)
    return YamlFile(path, docs)


_LOADER = None


def _loader():
    """A safe loader (C-accelerated when available) that records the line of every mapping and list."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class LineLoader(base):  # type: ignore[misc, valid-type]
            pass

        def mapping(loader, node):
            out = Map(loader.construct_mapping(node, deep=True))
            out.line = node.start_mark.line + 1
            return out

        def sequence(loader, node):
            out = Seq(loader.construct_sequence(node, deep=True))
            out.line = node.start_mark.line + 1
            return out

        def override(loader, node):
            if isinstance(node, yaml.MappingNode):
                return mapping(loader, node)
            if isinstance(node, yaml.SequenceNode):
                return sequence(loader, node)
            return loader.construct_scalar(node)

        LineLoader.add_constructor("tag:yaml.org,2002:map", mapping)
        LineLoader.add_constructor("tag:yaml.org,2002:seq", sequence)
        # docker compose's merge tags (compose 2.24): `!override` replaces what a file it extends
        # holds, `!reset` removes it. Read as the value written, and as nothing.
        LineLoader.add_constructor("!override", override)
        LineLoader.add_constructor("!reset", lambda loader, node: None)
        _LOADER = LineLoader
    return _LOADER
