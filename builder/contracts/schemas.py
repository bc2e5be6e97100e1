"""The JSON Schemas in ``schema/`` are the contracts; this module loads and applies them.

Runtime validation uses ``jsonschema-rs`` (tens of thousands of tasks/s); the python ``jsonschema``
reference validator is exposed for tests, which check that both give the same verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, Unpack

import jsonschema_rs
import orjson

from ..errors import InvalidDataError, Problem, Where

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"
SCHEMA_NAMES = (
    "labels",
    "sources",
    "article",
    "labelstudio-task",
    "documents",
    "entities",
    "claims",
    "stance",
    "spec",
)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema ``schema/<name>.schema.json``."""
    schema: dict[str, Any] = orjson.loads((SCHEMA_DIR / f"{name}.schema.json").read_bytes())
    return schema


def _resources() -> list[tuple[str, dict[str, Any]]]:
    return [(load_schema(n)["$id"], load_schema(n)) for n in SCHEMA_NAMES]


@cache
def fast_validator(name: str) -> jsonschema_rs.Validator:
    registry = jsonschema_rs.Registry(_resources())
    return jsonschema_rs.validator_for(load_schema(name), registry=registry, validate_formats=True)


@cache
def fast_check(name: str) -> Callable[[Any], bool]:
    """Whether an instance is valid against schema ``name``: the verdict of
    ``fast_validator(name).is_valid``, from an equivalent formulation that jsonschema-rs decides
    faster (see :func:`_dispatched`). Errors are always listed from the schema itself."""
    schema = _dispatched(load_schema(name))
    if schema == load_schema(name) or _mentions(
        schema, ("unevaluatedProperties", "unevaluatedItems")
    ):
        # (unevaluated* would see the properties an ``if`` evaluated: not rewritten then)
        return fast_validator(name).is_valid
    registry = jsonschema_rs.Registry(_resources())
    return jsonschema_rs.validator_for(
        schema,
        registry=registry,
        validate_formats=True,
    ).is_valid


_OBJECT_ONLY = {"properties", "required", "additionalProperties"}  # no-ops on non-objects


def _mentions(schema: Any, keywords: tuple[str, ...]) -> bool:
    if isinstance(schema, dict):
        return any(k in keywords or _mentions(v, keywords) for k, v in schema.items())
    return isinstance(schema, list) and any(_mentions(x, keywords) for x in schema)


def _dispatched(schema: Any) -> Any:
    """``schema`` with every per-value ``if``/``then`` list turned into a choice of branches.

    The export schema tells result kinds apart with ``allOf: [{if: {properties: {P: {const:
    c}}, required: [P]}, then: T_c}, ...]`` so that an error names the exact field; a validator
    evaluates every ``if`` for every result. Where the same subschema also requires ``P`` and
    restricts it to ``enum`` exactly the constants ``c``, and each ``T_c`` only constrains
    objects, that list is equivalent to ``anyOf: [{properties: {P: {const: c}}, allOf: [T_c]},
    ...]``: when ``P`` is missing or not in the enum the subschema fails either way, and
    otherwise exactly one branch can pass, the one whose ``T_c`` the ``if`` list would apply.
    ``anyOf`` stops at the first branch that passes. Anything else is left as it is.
    """
    if isinstance(schema, list):
        return [_dispatched(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _dispatched(v) for k, v in schema.items()}
    branches = out.get("allOf")
    if not isinstance(branches, list) or not branches or "anyOf" in out:
        return out
    keys = set()
    for b in branches:
        cond = b.get("if") if isinstance(b, dict) else None
        if not (
            isinstance(cond, dict)
            and set(b) == {"if", "then"}
            and isinstance(b["then"], dict)
            and set(b["then"]) <= _OBJECT_ONLY
            and set(cond) == {"properties", "required"}
            and isinstance(cond["properties"], dict)
            and len(cond["properties"]) == 1
        ):
            return out
        ((key, const),) = cond["properties"].items()
        if not (
            cond["required"] == [key]
            and isinstance(const, dict)
            and set(const) == {"const"}
            and isinstance(const["const"], str)
        ):
            return out
        keys.add(key)
    if len(keys) != 1:
        return out
    key = keys.pop()
    consts = [b["if"]["properties"][key]["const"] for b in branches]
    properties, required = out.get("properties"), out.get("required")
    allowed = properties.get(key) if isinstance(properties, dict) else None
    if not (
        isinstance(required, list)
        and key in required
        and isinstance(allowed, dict)
        and set(allowed) == {"enum"}
        and isinstance(allowed["enum"], list)
        and all(isinstance(x, str) for x in allowed["enum"])
        and sorted(allowed["enum"]) == sorted(consts)
        and len(set(consts)) == len(consts)
    ):
        return out
    del out["allOf"]
    out["anyOf"] = [
        {"properties": {key: {"const": b["if"]["properties"][key]["const"]}}, "allOf": [b["then"]]}
        for b in branches
    ]
    return out


def reference_validator(name: str) -> Any:
    """The python ``jsonschema`` validator for ``name``: the reference the fast one must match."""
    import jsonschema
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (uri, Resource.from_contents(s)) for uri, s in _resources()
    )
    cls = jsonschema.validators.validator_for(load_schema(name))
    return cls(load_schema(name), registry=registry, format_checker=cls.FORMAT_CHECKER)


def pointer(path: Any) -> str:
    """A JSON pointer (RFC 6901) from a sequence of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def iter_problems(name: str, instance: Any, base: str = "") -> Iterator[Problem]:
    """Every schema violation of ``instance``, pointers prefixed with ``base``."""
    try:
        errors = list(fast_validator(name).iter_errors(instance))
    except ValueError as exc:  # jsonschema-rs refuses values nested deeper than it recurses
        yield Problem(
            f"cannot validate this value: {exc}",
            pointer=base,
            expected=f"a value of schema/{name}.schema.json, not nested hundreds deep",
        )
        return
    for err in errors:
        yield Problem(
            err.message,
            pointer=base + pointer(err.instance_path),
            expected=_expected(err.kind.name, err.kind.as_dict(), err.schema_path, name),
            found=_short(err.instance),
        )


def validate_instance(name: str, instance: Any, base: str = "", **where: Unpack[Where]) -> None:
    """Raise :class:`InvalidDataError` listing every violation of schema ``name``.

    A valid instance is told by ``is_valid``, which stops at the first failing rule and builds
    no error objects; only an invalid one is walked for every violation."""
    try:
        if fast_validator(name).is_valid(instance):
            return
    except ValueError:  # too deep for jsonschema-rs: iter_problems says so
        pass
    problems = [p.located(**where) for p in iter_problems(name, instance, base)]
    if problems:
        raise InvalidDataError(problems)


def _expected(kind: str, detail: dict[str, Any], schema_path: Any, name: str) -> str:
    """What the schema wanted, in words, and which rule of which file said so."""
    rule = f"(schema/{name}.schema.json#{pointer(schema_path)})"
    if kind == "enum":
        return "one of " + ", ".join(map(str, detail["options"])) + " " + rule
    if kind == "required":
        return f"a property {detail['property']!r} " + rule
    if kind == "type":
        return "type " + " or ".join(detail["types"]) + " " + rule
    if kind == "additionalProperties":  # jsonschema-rs names the kinds as the keywords
        return "no properties besides those the schema lists " + rule
    if detail:
        return f"{kind} " + ", ".join(f"{k}={v}" for k, v in detail.items()) + " " + rule
    return kind + " " + rule


def _short(value: Any, limit: int = 80) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
