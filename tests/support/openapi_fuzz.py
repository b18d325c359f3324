"""Requests for every operation of an OpenAPI document, drawn by hypothesis: path, query and body
values from each parameter's schema, mixed with hostile ones (NaN, 2^64, lone surrogates, NUL,
huge strings, year 9999...) at every level, and now and then a wrong or missing token.

A schema-led generator of our own rather than a fuzzing framework: the app's document is small,
and the hostile values are the point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.support.api import NOW

NAN, INF = float("nan"), float("inf")
HOSTILE: list[Any] = [
    NAN,
    INF,
    -INF,
    2**31,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    0,
    -1,
    1.5,
    1e308,
    True,
    None,
    "",
    "\ud800",
    "a\udfffb",
    "a\x00b",
    "\x1b[2J",
    "line\nbreak",
    "x" * 5000,
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59Z",
    "NaN",
    "2026-13",
    "0000-01",
    "9999-12",
    [],
    {},
    [None],
    {"\ud800": 1},
]
hostile = st.sampled_from(HOSTILE)


def moments() -> st.SearchStrategy[str]:
    near = st.integers(-60 * 24, 60 * 24 * 40).map(lambda m: (NOW + timedelta(minutes=m)).isoformat())
    zones = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))])
    anywhere = st.builds(lambda at, tz: at.replace(tzinfo=tz).isoformat(), st.datetimes(), zones)
    return st.one_of(near, anywhere, st.just(datetime(2999, 12, 31, 23, 59, tzinfo=UTC).isoformat()))


class Schemas:
    """Strategies for JSON schemas of one document (``$ref`` resolved in its components)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.components: dict[str, Any] = document.get("components", {}).get("schemas", {})

    def value(self, schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
        """A value the schema describes, or a hostile one."""
        return st.one_of(self._valid(schema, depth), hostile) if depth < 4 else hostile

    def _valid(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        if "$ref" in schema:
            return self._valid(self.components[schema["$ref"].rsplit("/", 1)[1]], depth)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return st.one_of([self._valid(s, depth) for s in schema[key]])
        if "allOf" in schema:
            return self._valid(schema["allOf"][0], depth)
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if "const" in schema:
            return st.just(schema["const"])
        kind = schema.get("type")
        if kind == "integer":
            low, high = schema.get("minimum"), schema.get("maximum")
            bounded = st.integers(None if low is None else int(low), None if high is None else int(high))
            return st.one_of(st.integers(1, 40), bounded)
        if kind == "number":
            return st.floats(allow_nan=False, allow_infinity=False)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        if kind == "string":
            return self._string(schema)
        if kind == "array":
            items = self.value(schema.get("items", {}), depth + 1)
            return st.lists(items, max_size=min(int(schema.get("maxItems", 4)), 4))
        if kind == "object" or "properties" in schema:
            return self._object(schema, depth)
        return hostile

    def _string(self, schema: dict[str, Any]) -> st.SearchStrategy[str]:
        if schema.get("format") == "date-time":
            return moments()
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        longest = int(schema.get("maxLength", 40))
        return st.one_of(
            st.text(min_size=int(schema.get("minLength", 0)), max_size=min(longest, 40)),
            st.just("y" * longest),  # exactly at the bound
            st.sampled_from(["+420601111222", "eva@example.com", "2026-03", "caller:+420601111222"]),
        )

    def _object(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: self.value(v, depth + 1) for k, v in props.items() if k in required},
            optional={
                **{k: self.value(v, depth + 1) for k, v in props.items() if k not in required},
                "unexpected": hostile,
            },
        )


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query string, percent-encoded
    body: bytes | None
    headers: dict[str, str]
    route: str = ""  # the operation's path template

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        shown = self.body[:300] if self.body else b""
        return f"{self.method} {self.path[:300]} {shown!r} {sorted(self.headers)}"


def encoded(value: Any) -> str:
    """A path or query value as a client would percent-encode it (lone surrogates too)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def requests(
    document: dict[str, Any],
    path: str,
    method: str,
    credentials: dict[str, dict[str, str]],
    known: dict[str, list[Any]] | None = None,
) -> st.SearchStrategy[Request]:
    """Requests to one operation; ``credentials``: headers per security scheme name; ``known``:
    values worth trying for a parameter of that name (a gateway key the schema cannot know)."""
    schemas = Schemas(document)
    op = document["paths"][path][method]
    params = op.get("parameters", [])

    def of(p: dict[str, Any]) -> st.SearchStrategy[Any]:
        drawn = schemas.value(p.get("schema", {}))
        extra = (known or {}).get(p["name"])
        return st.one_of(st.sampled_from(extra), drawn) if extra else drawn

    in_path = {p["name"]: of(p) for p in params if p["in"] == "path"}
    in_query = {p["name"]: of(p) for p in params if p["in"] == "query"}
    body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    schemes = [name for requirement in op.get("security", []) for name in requirement]
    right = [credentials[name] for name in schemes] or [{}]
    headers = st.one_of(
        st.sampled_from(right),
        st.sampled_from([{}, {"Authorization": "Bearer guessed"}, *credentials.values()]),
    )

    @st.composite
    def draw(d: st.DrawFn) -> Request:
        concrete = path
        for name, values in in_path.items():
            value = d(values)
            concrete = concrete.replace("{" + name + "}", encoded(value))
        query = "&".join(
            f"{k}={encoded(d(v))}" for k, v in in_query.items() if d(st.booleans()) or k == "key"
        )
        body = None
        if body_schema is not None:
            value = d(schemas.value(body_schema))
            body = json.dumps(value).encode()  # NaN and Infinity as JSON's extensions, surrogates escaped
        h = dict(d(headers))
        if body is not None:
            h["Content-Type"] = "application/json"
        return Request(method.upper(), concrete + (f"?{query}" if query else ""), body, h, path)

    return draw()
