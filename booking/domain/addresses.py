"""Phone numbers and e-mail addresses as the store keeps them (one spelling per person)."""

from __future__ import annotations

import re
from email.utils import parseaddr

import phonenumbers

from booking.domain.errors import AddressError
from booking.domain.messages import Channel, InviteeDraft

_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# What a phone number may be written with. Letters never: an alphanumeric SMS sender (an
# operator's name) is nobody we can answer, and vanity letters would be read as digits.
_PHONE_CHARS = re.compile(r"^[0-9 \t+()./-]+$")
MIN_PHONE_DIGITS = 3


def normalise_phone(raw: str, region: str) -> str:
    """E.164 (+420601234567) when the number parses; otherwise its digits, as given."""
    text = raw.strip()
    if not _PHONE_CHARS.match(text) or sum(c in "0123456789" for c in text) < MIN_PHONE_DIGITS:
        raise AddressError(f"not a phone number: {raw[:40]!r}")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return re.sub(r"[^\d+]", "", text)


def normalise_email(raw: str) -> str:
    _, address = parseaddr(raw)
    address = address.strip()
    if not _EMAIL.match(address):
        raise AddressError(f"not an e-mail address: {raw[:80]!r}")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_sender(channel: Channel, raw: str, region: str) -> str:
    return normalise_phone(raw, region) if channel is Channel.SMS else normalise_email(raw)


def invitee_for(address: str, language: str, region: str) -> InviteeDraft:
    """An invitee from an address as a customer wrote it: e-mail if it has an @, else a phone."""
    if "@" in address:
        return InviteeDraft(Channel.EMAIL, normalise_email(address), language)
    return InviteeDraft(Channel.SMS, normalise_phone(address, region), language)
