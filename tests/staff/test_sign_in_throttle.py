"""Sign-in throttling holds under a burst, a stranger's guesses never lock the owner out, and a
flood of sign-ins takes neither the residents' connections nor more than its share of hashing."""

from __future__ import annotations

import os
import re
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from mapsvc.app import create_app
from mapsvc.db.engine import make_sessionmaker
from mapsvc.errors import TooManyRequests, Unauthorized
from mapsvc.services import accounts, staff_sessions
from tests.support.portal import PASSWORD, account, sign_in
from tests.support.server import live_server

pytestmark = pytest.mark.db

KISHIWADA = "272027"
OWNER = "owner@city.kishiwada.lg.jp"


def test_a_burst_of_wrong_passwords_gets_no_more_tries_than_the_limit(scratch):
    settings, engine = scratch
    with make_sessionmaker(engine)() as session:  # committed: the server sees it
        account(session, settings, OWNER, KISHIWADA, "editor")
    with live_server(settings.database.url.get_secret_value()) as base:
        form = httpx.get(f"{base}/staff/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        cookie = {"Cookie": f"mapsvc_login_csrf={form.cookies['mapsvc_login_csrf']}"}
        answers: dict[int, int] = {}
        burst = 14
        start = threading.Barrier(burst)

        def attempt(i: int, password: str) -> int:
            start.wait()
            answers[i] = httpx.post(
                f"{base}/staff/login",
                data={"login": OWNER, "password": password, "csrf": token.group(1)},
                headers=cookie,
                timeout=60,
            ).status_code
            return answers[i]

        threads = [
            threading.Thread(target=attempt, args=(i, "wrong-password-guess")) for i in range(burst)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # The burst is over: the owner's right password from the same address is refused now.
        # (Within the burst its success would clear the failures, so that the count of guesses
        # checked then depends on the order they were served in.)
        start = threading.Barrier(1)
        after = attempt(burst, PASSWORD)
    limit = settings.staff.failures_per_account_address
    # 429: refused by the count; 503: no sign-in place freed in time (refused unchecked too).
    assert set(answers.values()) <= {303, 401, 429, 503}, answers
    checked = [i for i, status in answers.items() if status == 401]
    assert len(checked) <= limit, answers  # at most the limit of guesses got checked
    counted = len([s for i, s in answers.items() if s in (401, 429) and i < burst])
    assert after == (429 if counted >= limit else 303), answers  # 503s were never counted


def test_the_owner_signs_in_from_elsewhere_after_a_strangers_guesses(session, test_settings):
    quick = test_settings.staff.model_copy(update={"max_slowdown_s": 0.01})
    settings = test_settings.model_copy(update={"staff": quick})
    account(session, settings, OWNER, KISHIWADA, "editor")

    def try_from(address: str, password: str) -> str:
        try:
            staff_sessions.sign_in(
                session, settings, login=OWNER, password=password, address=address
            )
        except (Unauthorized, TooManyRequests) as refused:
            return refused.code
        return "signed in"

    stranger = [try_from("203.0.113.9", f"guess-number-{i}") for i in range(8)]
    assert stranger == ["unauthorized"] * 5 + ["too_many_requests"] * 3
    # From another address the account is slowed down, never closed: the owner gets in.
    assert try_from("198.51.100.7", PASSWORD) == "signed in"
    assert try_from("203.0.113.9", PASSWORD) == "too_many_requests"  # the guesser's address


def test_one_address_guessing_many_accounts_is_paused(session, test_settings):
    for i in range(5):  # fewer guesses each than the limit per account and address
        account(session, test_settings, f"clerk{i}@city.kishiwada.lg.jp", KISHIWADA, "viewer")
    refused = []
    for attempt in range(test_settings.staff.failures_per_address + 1):
        try:
            staff_sessions.sign_in(
                session,
                test_settings,
                login=f"clerk{attempt % 5}@city.kishiwada.lg.jp",
                password="not-their-password",
                address="192.0.2.1",
            )
        except (Unauthorized, TooManyRequests) as error:
            refused.append(error.code)
    assert refused[-1] == "too_many_requests"
    assert refused.count("unauthorized") == test_settings.staff.failures_per_address


def test_a_sign_in_waits_for_a_hashing_slot_and_never_for_the_residents_connections(scratch):
    settings, engine = scratch
    one = settings.staff.model_copy(update={"concurrent_hashes": 1, "hash_wait_s": 0.2})
    settings = settings.model_copy(update={"staff": one})
    with make_sessionmaker(engine)() as session:
        account(session, settings, OWNER, KISHIWADA, "editor")
    app = create_app(settings)  # its own pools, as served
    with TestClient(app, base_url="https://testserver") as browser:
        shared = app.state.engine
        held = [shared.connect() for _ in range(shared.pool.size())]  # residents' reads, all
        try:
            assert sign_in(browser, OWNER).status_code == 303  # the portal's own pool
            browser.cookies.clear()
            with accounts.hashing(settings).held():  # another sign-in is hashing
                busy = sign_in(browser, OWNER)
            assert busy.status_code == 503 and "Retry-After" in busy.headers
        finally:
            for connection in held:
                connection.close()
        assert sign_in(browser, OWNER).status_code == 303


def test_argon2_runs_at_the_lowest_cpu_priority_outside_the_requests_thread(
    test_settings, monkeypatch
):
    """A flood's hashes yield the cores to public reads: Linux keeps nice per thread."""
    seen: list[tuple[int, int]] = []
    real = accounts.HASHER

    class Spy:
        def hash(self, password: str) -> str:
            tid = threading.get_native_id()
            seen.append((tid, os.getpriority(os.PRIO_PROCESS, tid)))
            return real.hash(password)

    monkeypatch.setattr(accounts, "HASHER", Spy())
    stored = accounts.hash_password(test_settings, "kishiwada-aed-2026")
    monkeypatch.undo()
    assert accounts.verify_password(test_settings, stored, "kishiwada-aed-2026")
    [(tid, nice)] = seen
    assert tid != threading.get_native_id() and nice == 19
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 19  # callers keep theirs
