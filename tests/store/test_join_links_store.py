"""Join links and call tokens on both backends (issue 20): an invitee's link made once, a token
minted per page, named, redeemed exactly once even by racing calls, and every refusal with its
own reason (used, expired, unknown or forged, not active, over, too early, off the list)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from booking.domain.join_links import JoinRefusal, JoinRefused, Signer, invitee_key, token_hash
from booking.domain.messages import Channel, Invitee, InviteeDraft
from booking.domain.model import Reservation, Role
from booking.services.join_links import JoinLinkService
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.conftest import T0, Store

SECRET = "a-test-secret-of-enough-length"


def service(store: Store, **settings: object) -> JoinLinkService:
    return JoinLinkService(
        store.uow, store.clock, BookingSettings(**settings), Signer(SECRET), "https://c.example/"
    )


def invited(store: Store, r: Reservation, address: str = "eva@example.com") -> Invitee:
    assert r.id is not None
    with store.uow() as tx:
        listed = tx.messages.replace_invitees(r.id, [InviteeDraft(Channel.EMAIL, address, "cs")], T0)
    return listed[0]


def link_for(store: Store, links: JoinLinkService, r: Reservation, invitee: Invitee | None) -> str:
    assert r.id is not None
    with store.uow() as tx:
        return links.link_in(tx, r.id, invitee, Role.PARTICIPANT)


def flip(text: str) -> str:
    """The same text with its last character changed."""
    return text[:-1] + ("B" if text[-1] != "B" else "C")


def refused(reason: JoinRefusal) -> pytest.RaisesExc[JoinRefused]:
    return pytest.raises(JoinRefused, check=lambda e: e.reason is reason)


def test_a_link_is_made_once_and_mints_a_token_that_is_redeemed_once(store: Store) -> None:
    r = store.service().book(T0 + timedelta(minutes=3), 60, 5)  # opens 5 minutes ahead: now
    links = service(store)
    invitee = invited(store, r)
    link = link_for(store, links, r, invitee)
    assert link_for(store, links, r, invitee) == link  # a re-sent invitation: the same link
    assert links.url(link) == f"https://c.example/join/{link}"
    page = links.open(link)
    assert page.reservation.id == r.id and page.role is Role.PARTICIPANT and page.language == "cs"
    assert page.expires_at == T0 + timedelta(minutes=10)
    assert links.open(link).token != page.token  # each opening its own token
    assert links.name(link, page.token, "  Eva\x00 \n Nováková  ") == "Eva Nováková"
    got = links.redeem(page.token, "1700.1")
    assert got.reservation.id == r.id and got.role is Role.PARTICIPANT and got.name == "Eva Nováková"
    with refused(JoinRefusal.USED):
        links.redeem(page.token, "1700.2")
    with refused(JoinRefusal.USED):
        links.name(link, page.token, "Mallory")
    with store.uow(read_only=True) as tx:  # the store keeps the token's hash only
        rows = tx.join_links.link_for(r.id or 0, invitee_key("email", invitee.address), Role.PARTICIPANT)
        assert rows is not None and page.token.split(".")[0] not in repr(rows)


def test_expired_forged_and_foreign_tokens_are_refused(store: Store) -> None:
    r = store.service().book(None, None, 5)
    links = service(store, join_token_minutes=2)
    link = link_for(store, links, r, invited(store, r))
    page = links.open(link)
    other = links.open(link_for(store, links, store.service().book(None, None, 5), None))
    token_id, expiry, signature = page.token.split(".")
    for forged in (
        f"{token_id}.{int(expiry) + 3600}.{signature}",  # a longer life, same signature
        f"{flip(token_id)}.{expiry}.{signature}",
        f"{token_id}.{expiry}.{flip(signature)}",
        "",
        "x" * 500,
        page.token + "\r\nX-Other: 1",
    ):
        with refused(JoinRefusal.UNKNOWN):
            links.redeem(forged, "1")
    with refused(JoinRefusal.UNKNOWN):  # a token of another link
        links.name(link, other.token, "Eva")
    with refused(JoinRefusal.UNKNOWN):  # a token signed under another secret
        JoinLinkService(
            store.uow, store.clock, BookingSettings(), Signer("another-secret-entirely"), ""
        ).redeem(page.token, "1")
    store.clock.advance(timedelta(minutes=2))
    with refused(JoinRefusal.EXPIRED):
        links.redeem(page.token, "1")
    with refused(JoinRefusal.EXPIRED):
        links.name(link, page.token, "Eva")


def test_links_refused_by_their_reservation_and_their_invitee(store: Store) -> None:
    svc = store.service()
    links = service(store, join_token_minutes=60)
    early = svc.book(T0 + timedelta(hours=2), 60, 5)
    with refused(JoinRefusal.TOO_EARLY) as e:
        links.open(link_for(store, links, early, None))
    assert e.value.at == T0 + timedelta(hours=2) and e.value.language == "en"
    soon = svc.book(T0 + timedelta(minutes=1), 30, 5)
    soon_link = link_for(store, links, soon, None)
    page = links.open(soon_link)
    deleted = svc.book(None, None, 5)
    deleted_link = link_for(store, links, deleted, None)
    invitee_link = link_for(store, links, deleted, invited(store, deleted))
    with store.uow() as tx:  # the invitee is taken off the list: their link is gone
        tx.messages.replace_invitees(
            deleted.id or 0, [InviteeDraft(Channel.EMAIL, "bob@example.com", "en")], T0
        )
    with refused(JoinRefusal.UNKNOWN):
        links.open(invitee_link)
    links.open(deleted_link)
    svc.delete(deleted.room.profile_id, deleted.id or 0)
    with refused(JoinRefusal.NOT_ACTIVE):
        links.open(deleted_link)
    for forged in (flip(soon_link), "nothing", "a" * 22 + "." + "b" * 22):
        with refused(JoinRefusal.UNKNOWN):
            links.open(forged)
    store.clock.advance(timedelta(minutes=31))
    with refused(JoinRefusal.OVER):
        links.open(soon_link)
    with refused(JoinRefusal.OVER):  # a token still fresh, for a conference that ended
        links.redeem(page.token, "1")


def test_a_refused_redeem_leaves_the_token_unused(store: Store) -> None:
    r = store.service().book(T0 + timedelta(minutes=3), 60, 5)
    links = service(store)
    link = link_for(store, links, r, None)
    page = links.open(link)
    store.service().delete(r.room.profile_id, r.id or 0)
    with refused(JoinRefusal.NOT_ACTIVE):
        links.redeem(page.token, "1")
    with store.uow(read_only=True) as tx:
        found = tx.join_links.token(token_hash(page.token.split(".")[0]))
        assert found is not None and found.used_at is None


def race(links: JoinLinkService, token: str, calls: int = 8) -> tuple[list[str], list[JoinRefusal]]:
    """``calls`` threads redeem ``token`` at once: who won, and why the others were refused."""
    start = threading.Barrier(calls)
    won: list[str] = []
    lost: list[JoinRefusal] = []

    def call(n: int) -> None:
        start.wait()
        try:
            links.redeem(token, f"call-{n}")
            won.append(f"call-{n}")
        except JoinRefused as e:
            lost.append(e.reason)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return won, lost


def test_calls_racing_with_one_token_get_it_once(store: Store) -> None:
    """Eight threads, each with its own connection, redeem the same token at once: one wins,
    the others are told it was used (on PostgreSQL the losers wait for the winner's row lock
    and then see it used; on SQLite the writers take turns)."""
    links = service(store)
    pages = [links.open(link_for(store, links, store.service().book(None, None, 5), None)) for _ in range(5)]
    engine = make_engine(store.url)
    racing = JoinLinkService(SqlUnitOfWork(engine), store.clock, BookingSettings(), Signer(SECRET), "")
    try:
        for page in pages:
            won, lost = race(racing, page.token)
            assert len(won) == 1 and lost == [JoinRefusal.USED] * 7, (won, lost)
    finally:
        engine.dispose()
