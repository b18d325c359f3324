"""Conference numbers and PINs: random, long enough, never trivial, PIN != ADMIN PIN."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Container


def is_trivial(digits: str) -> bool:
    """Repeated digits, ascending/descending runs, or a short pattern repeated (1212..)."""
    if len(set(digits)) <= 2:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}
    if steps in ({1}, {9}):
        return True
    for size in range(1, len(digits) // 2 + 1):
        if len(digits) % size == 0 and digits == digits[:size] * (len(digits) // size):
            return True
    return False


def random_digits(length: int, rand: Callable[[int], int] = secrets.randbelow) -> str:
    while True:
        value = "".join(str(rand(10)) for _ in range(length))
        if value[0] != "0" and not is_trivial(value):
            return value


def new_pins(length: int = 6, rand: Callable[[int], int] = secrets.randbelow) -> tuple[str, str]:
    """(PIN, ADMIN PIN): two different random non-trivial codes of ``length`` digits."""
    if length < 6:
        raise ValueError("PINs have at least 6 digits")
    pin = random_digits(length, rand)
    while True:
        admin = random_digits(length, rand)
        if admin != pin:
            return pin, admin


def new_conference_number(
    taken: Container[str], length: int = 6, rand: Callable[[int], int] = secrets.randbelow
) -> str:
    for _ in range(1000):
        number = random_digits(length, rand)
        if number not in taken:
            return number
    raise RuntimeError("no free conference number: raise the length")
