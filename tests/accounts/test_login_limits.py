"""Nobody can lock anyone out: failed logins over REST and the login page, from several addresses.

The hard limit counts per (account, address): a stranger who exhausts it closes only their
own address. Across addresses an account has a much higher ceiling, past which attempts are
slowed down with a Retry-After that grows, never locked; addresses the owner signed in from
skip the slowdown, and sessions and tokens already signed in are never touched.
"""

import time

import pytest

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
TOKEN_URL = "/api/auth/token/"


def token_login(api, username: str, password: str, address: str):
    return api.post(TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address)


def page_login(client, username: str, password: str, address: str):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_a_stranger_who_exhausts_the_limit_locks_out_only_their_own_address(
    api, client, client_for, alice, password, settings
):
    signed_in_phone = client_for(alice)
    client.force_login(alice)  # a browser already signed in
    limit = settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS
    for _ in range(limit):
        assert token_login(api, "alice", "guess", ATTACKER).status_code == 400
    refused = token_login(api, "alice", password, ATTACKER)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 25 * 60

    print(f"\nowner's login from another address after {limit} failures from the attacker's: ", end="")
    owner = token_login(api, "alice", password, OWNER)
    print(owner.status_code)
    assert owner.status_code == 200
    assert signed_in_phone.get("/api/me/").status_code == 200
    assert client.get("/settings/").status_code == 200


def test_the_login_page_counts_per_account_and_address_too(client, alice, password, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS):
        assert page_login(client, "alice", "guess", ATTACKER).status_code == 200  # the form again
    refused = page_login(client, "alice", password, ATTACKER)
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert page_login(client, "alice", password, OWNER).status_code == 302


def test_many_addresses_meet_a_slowdown_that_grows_not_a_lock(api, client_for, alice, password, settings):
    settings.LOGIN_FAILURE_CEILING_PER_ACCOUNT = 3
    assert token_login(api, "alice", password, OWNER).status_code == 200  # an address alice uses
    signed_in_phone = client_for(alice)
    addresses = (f"10.0.{n // 250}.{n % 250 + 1}" for n in range(1000))
    for _ in range(settings.LOGIN_FAILURE_CEILING_PER_ACCOUNT):
        assert token_login(api, "alice", "guess", next(addresses)).status_code == 400

    waits = []
    for _ in range(3):
        # One attempt goes ahead; the next, from yet another address, is told to wait.
        assert token_login(api, "alice", "guess", next(addresses)).status_code == 400
        refused = token_login(api, "alice", "guess", next(addresses))
        assert refused.status_code == 429
        waits.append(int(refused["Retry-After"]))
        # Meanwhile the owner signs in from where she signed in before, and stays signed in.
        assert token_login(api, "alice", password, OWNER).status_code == 200
        assert signed_in_phone.get("/api/me/").status_code == 200
        time.sleep(waits[-1])
    print(f"\nRetry-After past the ceiling, attempt after attempt: {waits}")
    assert waits == [1, 2, 4]
    # Not a lock: after the wait, the owner gets in from an address never seen before.
    assert token_login(api, "alice", password, next(addresses)).status_code == 200


def test_the_slowdown_lets_one_of_a_burst_through(api, alice, settings):
    settings.LOGIN_FAILURE_CEILING_PER_ACCOUNT = 0
    statuses = [token_login(api, "alice", "guess", f"10.9.0.{n}").status_code for n in range(1, 11)]
    assert statuses == [400] + [429] * 9
