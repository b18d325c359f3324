"""The .conf reader: sections, templates, both assignment forms, continuation lines, comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from conference_ivr.pbx.confparse import parse_conf, parse_conf_file

DIALPLAN = """\
; a leading comment
[general]
static = yes    ; trailing comment

[base](!)
type = user
quiet = yes

[derived](base)
admin=yes

[both](!,base)
marked = yes

[ctx]
exten => s,1,Answer()
 same => n,Set(X=${CUT(V,\\;,1)}) ; the comment goes, the escaped one stays
 same => n(label),Hangup()
include => other
"""


def _by_name(text: str) -> dict[str, list[tuple[str, str]]]:
    return {s.name: s.entries for s in parse_conf(text)}


def test_sections_in_file_order_with_template_options() -> None:
    sections = parse_conf(DIALPLAN)
    assert [s.name for s in sections] == ["general", "base", "derived", "both", "ctx"]
    opts = {s.name: s.options for s in sections}
    assert opts == {"general": [], "base": ["!"], "derived": ["base"], "both": ["!", "base"], "ctx": []}


def test_equals_and_arrow_assignments_give_the_same_pairs() -> None:
    entries = _by_name(DIALPLAN)
    assert entries["general"] == [("static", "yes")]
    assert entries["derived"] == [("admin", "yes")]
    assert entries["ctx"][0] == ("exten", "s,1,Answer()")
    assert entries["ctx"][-1] == ("include", "other")


def test_same_lines_keep_their_order_and_priorities() -> None:
    ctx = next(s for s in parse_conf(DIALPLAN) if s.name == "ctx")
    assert [k for k, _ in ctx.entries] == ["exten", "same", "same", "include"]
    assert ctx.values("same")[1] == "n(label),Hangup()"
    assert ctx.get("exten") == "s,1,Answer()"
    assert ctx.get("missing") is None


def test_comments_are_stripped_but_escaped_semicolons_are_not_comments() -> None:
    ctx = next(s for s in parse_conf(DIALPLAN) if s.name == "ctx")
    value = ctx.values("same")[0]
    assert value.startswith("n,Set(X=${CUT(V,")
    assert value.endswith(",1)})")
    assert "comment" not in value
    assert value == "n,Set(X=${CUT(V,;,1)})"


def test_escaped_semicolon_becomes_a_plain_semicolon_like_asterisk() -> None:
    # Asterisk's loader removes the backslash (memmove over it), so the dialplan sees CUT(V,;,1)
    (section,) = parse_conf("[ctx]\nexten => s,1,Set(X=${CUT(V,\\;,1)}) ; note\n")
    assert section.get("exten") == "s,1,Set(X=${CUT(V,;,1)})"
    (section,) = parse_conf("[x]\na = b\\;c;d\n")
    assert section.get("a") == "b;c"


def test_comment_only_and_blank_lines_are_ignored() -> None:
    assert parse_conf("; nothing\n\n   ; still nothing\n") == []
    (section,) = parse_conf("[empty]\n; only a comment\n")
    assert section.entries == []


def test_values_collects_repeated_keys() -> None:
    (section,) = parse_conf("[modules]\nload => a.so\nnoload => b.so\nload => c.so\n")
    assert section.values("load") == ["a.so", "c.so"]
    assert section.get("load") == "a.so"


def test_value_keeps_inner_equals_signs() -> None:
    (section,) = parse_conf("[globals]\nURL = agi://h:1/ivr?a=b\n")
    assert section.get("URL") == "agi://h:1/ivr?a=b"


def test_entry_outside_a_section_raises() -> None:
    with pytest.raises(ValueError, match="outside a section"):
        parse_conf("static = yes\n[general]\n")


def test_line_without_assignment_raises() -> None:
    with pytest.raises(ValueError, match="key/value"):
        parse_conf("[general]\njust words\n")


def test_parse_conf_file_keys_by_name_later_duplicates_win(tmp_path: Path) -> None:
    path = tmp_path / "x.conf"
    path.write_text("[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\n")
    parsed = parse_conf_file(path)
    assert set(parsed) == {"a", "b"}
    assert parsed["a"].get("k") == "3"
