"""Tariffs from TOML (``tariffs.toml`` is the default): validated, with the entry at fault named."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from booking.domain.errors import TariffError
from booking.domain.tariff import CallerRule, Plan, Rate, SmsPrice, Validity


@dataclass(frozen=True)
class Tariffs:
    rules: tuple[CallerRule, ...]
    plans: tuple[Plan, ...]
    sms: tuple[SmsPrice, ...] = ()  # paid SMS notices (R21): none listed, none billed


def default_text() -> str:
    return resources.files("booking.domain").joinpath("tariffs.toml").read_text("utf-8")


def load(text: str) -> Tariffs:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TariffError(f"not TOML: {e}") from e
    vat = _decimal(raw, "vat_rate", "the file", "0.21")
    rules = tuple(_rule(e, n, vat) for n, e in enumerate(raw.get("caller", []), 1))
    plans = tuple(_plan(e, n, vat) for n, e in enumerate(raw.get("plan", []), 1))
    sms = tuple(_sms(e, n, vat) for n, e in enumerate(raw.get("sms", []), 1))
    if not rules:
        raise TariffError("no [[caller]] rules: every call needs a rule, even a free one")
    return Tariffs(rules, plans, sms)


def _rate(e: dict[str, Any], where: str, vat: Decimal) -> Rate:
    try:
        return Rate(
            price_per_minute=_decimal(e, "price_per_minute", where),
            minimum_s=_int(e, "minimum_s", where, 0),
            increment_s=_int(e, "increment_s", where, 1),
            vat_included=bool(e.get("vat_included", False)),
            vat_rate=_decimal(e, "vat_rate", where, str(vat)),
        )
    except ValueError as err:  # Rate's own checks
        raise TariffError(
            f"{where}: price, minimum and VAT must be 0 or more, the increment 1 or more"
        ) from err


def _validity(e: dict[str, Any], where: str) -> Validity:
    start, end = e.get("valid_from"), e.get("valid_to")
    if not isinstance(start, date) or (end is not None and not isinstance(end, date)):
        raise TariffError(f"{where}: valid_from (and valid_to) must be dates, e.g. 2027-01-01")
    if end is not None and end <= start:
        raise TariffError(f"{where}: valid_to must be after valid_from")
    return Validity(start, end)


def _rule(e: dict[str, Any], n: int, vat: Decimal) -> CallerRule:
    where = f"caller rule {n} ({e.get('name', 'unnamed')})"
    return CallerRule(
        name=str(e.get("name", f"rule {n}")),
        rate=_rate(e, where, vat),
        validity=_validity(e, where),
        calling_prefixes=_numbers(e, "calling_prefixes", where),
        access_numbers=_numbers(e, "access_numbers", where),
    )


def _plan(e: dict[str, Any], n: int, vat: Decimal) -> Plan:
    where = f"plan {n} ({e.get('name', 'unnamed')})"
    if not e.get("name"):
        raise TariffError(f"{where}: a plan needs a name")
    return Plan(
        str(e["name"]), _rate(e, where, vat), _validity(e, where), _decimal(e, "monthly_minimum", where, "0")
    )


def _sms(e: dict[str, Any], n: int, vat: Decimal) -> SmsPrice:
    where = f"sms price {n} ({e.get('name', 'unnamed')})"
    try:
        return SmsPrice(
            name=str(e.get("name", f"sms {n}")),
            price_per_message=_decimal(e, "price_per_message", where),
            validity=_validity(e, where),
            vat_included=bool(e.get("vat_included", False)),
            vat_rate=_decimal(e, "vat_rate", where, str(vat)),
        )
    except ValueError as err:
        raise TariffError(f"{where}: price and VAT must be 0 or more") from err


def _numbers(e: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = e.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip("*?+0123456789") == "" and v for v in value
    ):
        raise TariffError(f'{where}: {key} must be a list of numbers like "+420601", "800??????" or "141*"')
    return tuple(value)


def _decimal(e: dict[str, Any], key: str, where: str, default: str | None = None) -> Decimal:
    value = e.get(key, default)
    if isinstance(value, float):
        raise TariffError(f'{where}: write {key} as a string ("4.00"): floats are not exact')
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError) as err:
        raise TariffError(f"{where}: {key} is not a number: {value!r}") from err


def _int(e: dict[str, Any], key: str, where: str, default: int) -> int:
    value = e.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TariffError(f"{where}: {key} must be a whole number of seconds")
    return value
