"""Parse CQL2 filters (text and JSON) with pygeofilter, with bounds on size and complexity."""

from __future__ import annotations

import re
from typing import Any

import orjson
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_json.parser import walk_cql_json
from pygeofilter.parsers.cql2_text import parse as parse_text
from pygeofilter.parsers.ecql import parse as parse_ecql

from mapsvc.errors import InvalidParameter

MAX_LENGTH = 4000
MAX_NODES = 64
_S_DWITHIN = re.compile(r"\bS_DWITHIN\s*\(", re.IGNORECASE)


def _invalid(detail: str) -> InvalidParameter:
    return InvalidParameter(f"filter が正しくありません（{detail}）", f"Invalid filter: {detail}")


def _count(node: Any) -> int:
    if isinstance(node, ast.Node):
        return 1 + sum(_count(sub) for sub in node.get_sub_nodes())
    if isinstance(node, list):
        return sum(_count(item) for item in node)
    return 1


def _json_node(node: Any) -> ast.Node:
    # pygeofilter's CQL2-JSON parser lacks S_DWITHIN; logical nodes are walked here so that
    # S_DWITHIN may appear anywhere, and every other predicate goes to pygeofilter.
    if isinstance(node, dict) and node.get("op") in ("and", "or"):
        parts = [_json_node(arg) for arg in node.get("args", [])]
        if len(parts) < 2:
            raise _invalid("and/or need two arguments")
        combined = parts[0]
        for part in parts[1:]:
            combined = ast.And(combined, part) if node["op"] == "and" else ast.Or(combined, part)
        return combined
    if isinstance(node, dict) and node.get("op") == "not":
        return ast.Not(_json_node(node.get("args", [None])[0]))
    if isinstance(node, dict) and node.get("op") == "s_dwithin":
        args = node.get("args", [])
        if len(args) < 3 or not isinstance(args[0], dict) or "property" not in args[0]:
            raise _invalid("s_dwithin takes a property, a geometry and a distance")
        units = args[3] if len(args) > 3 else "meters"
        return ast.DistanceWithin(
            ast.Attribute(args[0]["property"]), values.Geometry(args[1]), args[2], units
        )
    if isinstance(node, dict) and node.get("op") == "between":
        # CQL2 1.0: args [value, lower, upper]. pygeofilter reads a draft's [value, [lower,
        # upper]] and, given the standard form, took the bounds' first characters.
        args = node.get("args", [])
        if len(args) == 2 and isinstance(args[1], list):
            args = [args[0], *args[1]]
        if len(args) != 3:
            raise _invalid("between takes a value, a lower and an upper bound")
        value, low, high = (walk_cql_json(arg) for arg in args)
        return ast.Between(value, low, high, not_=False)
    result: ast.Node = parse_json(node)
    return result


def parse_filter(text: str, language: str | None) -> ast.Node:
    """The filter's syntax tree; 400 when it is malformed, too long or too complex."""
    if len(text) > MAX_LENGTH:
        raise _invalid(f"longer than {MAX_LENGTH} characters")
    language = language or "cql2-text"
    try:
        if language == "cql2-json":
            tree = _json_node(orjson.loads(text))
        elif language == "cql2-text":
            tree = (
                parse_ecql(_S_DWITHIN.sub("DWITHIN(", text))
                if _S_DWITHIN.search(text)
                else parse_text(text)
            )
        else:
            raise _invalid("filter-lang must be cql2-text or cql2-json")
    except InvalidParameter:
        raise
    except Exception as exc:  # the parsers raise lark's and their own errors
        raise _invalid(str(exc).splitlines()[0][:200]) from None
    if _count(tree) > MAX_NODES:
        raise _invalid(f"more than {MAX_NODES} terms")
    return tree
