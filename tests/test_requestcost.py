"""Tests for authcourse.instruments.requestcost: what one authenticated request does to the store, per mode."""

from __future__ import annotations

import pytest

from authcourse.instruments.requestcost import lookup_cost, measure_request_cost, verify_cost


@pytest.mark.parametrize(
    ("mode", "revocation", "operations"),
    [
        ("session", "none", ["GET session:"]),
        ("token", "none", []),
        ("token", "blacklist", ["GET denylist:"]),
        ("token", "version", ["GET token-version:1"]),
        ("cookie-token", "none", []),
        ("cookie-token", "blacklist", ["GET denylist:"]),
    ],
)
def test_each_scheme_makes_its_own_store_reads_per_request(mode: str, revocation: str, operations: list[str]) -> None:
    cost = measure_request_cost(mode, revocation, "memory", batches=2)
    assert len(cost.store_operations) == len(operations), cost.store_operations
    assert all(op.startswith(prefix) for op, prefix in zip(cost.store_operations, operations)), cost.store_operations
    assert cost.store_reads == len(operations)
    assert (cost.mode, cost.revocation, cost.store) == (mode, revocation, "memory")
    assert 0 < cost.timing.low <= cost.timing.median <= cost.timing.high


def test_the_primitives_are_timed_with_their_labels() -> None:
    assert lookup_cost("memory", batches=2).label == "memory GET"
    assert verify_cost(batches=2).label == "HS256 verify (PyJWT), signature checked"
    assert verify_cost(remembered=True, batches=2).label == "HS256 token, signature remembered"


@pytest.mark.parametrize("signature_cache", [False, True])
def test_the_cost_is_of_a_checked_signature_unless_the_cache_is_asked_for(monkeypatch, signature_cache: bool) -> None:
    import jwt

    calls: list[str] = []
    decode = jwt.decode

    def counting(token, *args, **kwargs):
        calls.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    cost = measure_request_cost("token", "none", "memory", signature_cache=signature_cache, batches=2)
    assert cost.timing.label.endswith("signature remembered" if signature_cache else "signature checked")
    if signature_cache:
        assert len(calls) == 1  # the first request; every timed one found it remembered
    else:
        assert len(calls) > cost.timing.calls  # every timed call, plus the warm-up ones
