"""Server-rendered pages: Jinja2 with autoescaping, one base layout (accessible, phone-sized)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from booking.web.session import current_viewer, signer

TEMPLATES = Path(str(resources.files("booking.web").joinpath("templates")))


class Pages:
    """Renders templates from any number of folders (the panel's, the live page's, ...): a
    later folder's template of the same name wins; all extend ``base.html``."""

    def __init__(self, tz: ZoneInfo, folders: tuple[Path, ...] = ()) -> None:
        self.templates = Jinja2Templates(directory=[*folders, TEMPLATES])
        self.tz = tz
        env = self.templates.env
        env.autoescape = True
        env.filters["local"] = self.local
        env.filters["hm"] = lambda at: "" if at is None else f"{at.astimezone(self.tz):%H:%M}"

    def local(self, at: datetime | None) -> str:
        return "" if at is None else f"{at.astimezone(self.tz):%Y-%m-%d %H:%M}"

    def render(
        self, request: Request, name: str, context: Mapping[str, Any] | None = None, status_code: int = 200
    ) -> HTMLResponse:
        viewer = current_viewer(request)
        base = {"viewer": viewer, "csrf": signer(request).csrf(viewer) if viewer else "", "title": ""}
        return self.templates.TemplateResponse(
            request, name, {**base, **(context or {})}, status_code=status_code
        )


def pages(request: Request) -> Pages:
    p = request.app.state.web_pages
    assert isinstance(p, Pages)
    return p
