"""The month's statement as a PDF (fpdf2): the organizer, the month and plan, one row per
session, the paid SMS notices, and the totals (R51). Blocking and CPU-bound: the month-end run
calls it in its worker thread.

Text is drawn in a Unicode TrueType font when one is found (Czech names keep their
diacritics); without one, in the PDF's built-in Helvetica, with letters it lacks folded to
their base letter ("Příbram" -> "Pribram") rather than failing the statement.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from booking.domain.statement import Statement

# Debian's fonts-dejavu-core; any TrueType font with Latin Extended-A will do.
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


class StatementPdf:
    """Renders statements; ``font``: a TrueType file, else the first of ``fonts`` found."""

    def __init__(
        self, service: str, tz: ZoneInfo, font: Path | None = None, fonts: Sequence[Path] = UNICODE_FONTS
    ) -> None:
        self._service = service
        self._tz = tz
        self._font = font or next((f for f in fonts if f.is_file()), None)

    def __call__(self, s: Statement, organizer: str) -> bytes:
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(True, margin=15)
        pdf.add_page()
        family = self._set_font(pdf)
        text = self._text

        pdf.set_font(family, size=16)
        pdf.cell(0, 10, text(f"{self._service}: statement {s.month}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=10)
        for heading in (
            f"Organizer: {organizer}",
            f"Plan: {s.plan.replace('_', ' ') or '-'}",
            f"Amounts in CZK; times in {self._tz.key}.",
        ):
            pdf.cell(0, 6, text(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        widths = (40, 30, 25, 30, 35)
        self._row(pdf, ("Started", "Conference", "Legs", "Billed min", "Amount"), widths)
        for line in s.lines:
            started = self._local(line.started_at)
            minutes = f"{Decimal(line.billed_s) / 60:.1f}"
            self._row(
                pdf, (started, line.conference_number, str(line.participants), minutes, _m(line.net)), widths
            )
        if not s.lines:
            pdf.cell(0, 7, "No conference sessions this month.", new_x="LMARGIN", new_y="NEXT")
        if s.sms:
            pdf.ln(3)
            self._row(pdf, ("SMS sent", "To", "", "", "Amount"), widths)
            for paid in s.sms:
                self._row(
                    pdf, (self._local(paid.sms.sent_at), paid.sms.recipient, "", "", _m(paid.net)), widths
                )
        pdf.ln(4)
        vat = f"VAT {(s.vat_rate * 100).normalize():f} %"
        totals: Sequence[tuple[str, Decimal]] = (
            ("Conference sessions", s.usage_net),
            ("Monthly minimum top-up", s.minimum_top_up),
            (f"SMS notices ({len(s.sms)})", s.sms_net),
            ("Net", s.net),
            (vat, s.vat),
            ("Total", s.gross),
            ("Callers' own connection charges (billed by their carriers, for information)", s.callers_gross),
        )
        for label, amount in totals:
            pdf.cell(125, 7, text(label))
            pdf.cell(35, 7, _m(amount), align="R", new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    def _set_font(self, pdf: FPDF) -> str:
        if self._font is not None:
            pdf.add_font("statement", fname=str(self._font))
            return "statement"
        return "helvetica"

    def _text(self, value: str) -> str:
        if self._font is not None:
            return value
        folded = unicodedata.normalize("NFKD", value)
        return (
            "".join(c for c in folded if not unicodedata.combining(c))
            .encode("latin-1", "replace")
            .decode("latin-1")
        )

    def _row(self, pdf: FPDF, cells: Sequence[str], widths: Sequence[int]) -> None:
        for n, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            last = n == len(cells) - 1
            pdf.cell(
                width,
                7,
                self._text(cell),
                border="B",
                align="R" if last or n in (2, 3) else "L",
                new_x="LMARGIN" if last else "RIGHT",
                new_y="NEXT" if last else "TOP",
            )

    def _local(self, at: datetime) -> str:
        return f"{at.astimezone(self._tz):%Y-%m-%d %H:%M}"


def _m(amount: Decimal) -> str:
    return f"{amount:.2f}"
