"""Signing in the way a browser does: read the sign-in page (which sets the pre-session cookie
and carries the forms' token), then post the form with that token."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

# The sign-in forms' token (the hidden field after "next"; a signed-in page's header has the
# session's own token first).
_TOKEN = re.compile(r'name="next" value="[^"]*">\s*<input type="hidden" name="csrf" value="([^"]+)"')


def signin_token(page: str) -> str:
    found = _TOKEN.search(page)
    assert found is not None, "no sign-in form token on the page"
    return found.group(1)


def post_sign_in(
    client: TestClient | httpx.Client, path: str, data: dict[str, Any], **kw: Any
) -> httpx.Response:
    token = signin_token(client.get("/panel/login").text)
    response: httpx.Response = client.post(path, data={"csrf": token, **data}, **kw)
    return response


async def apost_sign_in(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], **kw: Any
) -> httpx.Response:
    token = signin_token((await client.get("/panel/login")).text)
    return await client.post(path, data={"csrf": token, **data}, **kw)
