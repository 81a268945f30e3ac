"""The scale-out lab's results, asserted: behind the embedded defaults (builtin balancer, fakeredis over
TCP) and behind the real ones (nginx, Debian's redis-server)."""

from __future__ import annotations

import pytest

from authcourse.fleet import SharedStore
from authcourse.fleet.load import under_load
from authcourse.fleet.revocation import compromised_account, revocation_exchanges
from authcourse.fleet.sharing import exchanges, restart_survival, success_rates

SETUPS = ["embedded", pytest.param("real", marks=[pytest.mark.nginx, pytest.mark.redis])]


@pytest.fixture(params=SETUPS)
def setup(request: pytest.FixtureRequest):
    """(balancer, store URL): builtin + fakeredis's TCP server, or nginx + a redis-server of its own."""
    if request.param == "embedded":
        yield "builtin", None
        return
    request.getfixturevalue("nginx_binary")
    request.getfixturevalue("redis_server")  # skips (or fails under CI) without redis-server
    with SharedStore("redis") as shared:
        yield "nginx", shared.url


def test_success_rate_against_the_number_of_servers(setup):
    balancer, store_url = setup
    result = success_rates(range(1, 11), balancer=balancer, store_url=store_url)
    for n in range(1, 11):
        assert result.rate("memory", n) == pytest.approx(1 / n), n  # a login lives on one server of N
        assert result.rate("shared", n) == 1.0, n
        assert result.rate("shared-secret-each", n) == pytest.approx(1 / n), n  # cookies signed per server
        assert result.rate("jwt", n) == 1.0, n
        assert result.rate("jwt-secret-each", n) == pytest.approx(1 / n), n


def test_a_memory_session_is_lost_when_its_server_restarts():
    result = restart_survival("memory")
    assert (result.before, result.after_server_restart) == (200, 401)
    assert not result.survives


@pytest.mark.redis
def test_an_append_only_redis_keeps_sessions_and_their_ttls_across_server_and_store_restarts(redis_server):
    result = restart_survival("redis", pause=0.3)
    assert (result.before, result.after_server_restart, result.after_store_restart) == (200, 200, 200)
    assert result.survives
    assert result.ttl_kept_counting, (result.ttl_before, result.ttl_after, result.waited)


def test_a_compromised_account_is_locked_out_everywhere_except_with_plain_jwts(setup):
    balancer, store_url = setup
    rows = {row.scheme: row for row in compromised_account(3, balancer=balancer, store_url=store_url, window=2.0)}
    for scheme in ("session", "denylist", "version"):
        assert rows[scheme].revoked_everywhere, rows[scheme]
        assert rows[scheme].seconds_to_revoke < 2.0
        assert rows[scheme].rounds == 1  # the first round after the revoke is refused by every server
        assert rows[scheme].store_reads_per_request == 1
    plain = rows["jwt-none"]
    assert not plain.revoked_everywhere and plain.rounds == 0
    assert plain.seconds_to_revoke > 23 * 3600  # it lives until its exp, a day after login
    assert plain.store_reads_per_request == 0
    assert all(row.microseconds_per_request > 0 for row in rows.values())


@pytest.mark.timeout(240)
def test_two_hundred_clients_through_the_balancer_lose_nothing_and_cross_nothing(setup):
    balancer, store_url = setup
    result = under_load(200, 4, balancer=balancer, store_url=store_url, timeout=180)
    assert result.failures == []
    assert (result.crossed, result.lost) == (0, 0)
    assert result.requests == 200 * 6  # login, 3 profiles, logout, the old cookie refused
    if balancer == "builtin":
        assert result.per_server == [300] * 4


@pytest.mark.postgres
def test_postgresql_keeps_sessions_and_their_ttls_across_server_and_store_restarts(postgres_server):
    result = restart_survival("postgres", pause=0.3)
    assert (result.before, result.after_server_restart, result.after_store_restart) == (200, 200, 200)
    assert result.ttl_kept_counting, (result.ttl_before, result.ttl_after, result.waited)


def test_the_exchanges_behind_a_success_rate_show_which_server_answered_each_request():
    def statuses(table):
        return [(row[1], row[2]) for row in table.rows]

    assert statuses(exchanges("memory")) == [("server 1", "200"), ("server 2", "401"), ("server 3", "401"),
                                             ("server 1", "200")]
    assert statuses(exchanges("shared")) == [("server 1", "200"), ("server 2", "200"), ("server 3", "200"),
                                             ("server 1", "200")]
    with pytest.raises(ValueError, match="configuration must be one of"):
        exchanges("nonsense")


def test_the_exchanges_behind_a_revocation_show_the_stolen_copy_before_and_after_the_revoke():
    def after(table):
        return [row[3] for row in table.rows if row[0] == "after"]

    assert after(revocation_exchanges("denylist")) == ["401", "401", "401"]
    assert after(revocation_exchanges("jwt-none")) == ["200", "200", "200"]
