"""Tests for authcourse.instruments.denylist: entry sizes, and the re-spelled twin of a token."""

from __future__ import annotations

import jwt
import pytest

from authcourse import MemoryStore, fakeredis_store, redis_store
from authcourse.instruments.denylist import decode_base64url, entry_size, reencode_signature, spare_bits
from authcourse.tokens import AUDIENCE, TokenService, denylist_key

SECRET = b"a-denylist-test-secret-of-32-bytes!!"


@pytest.fixture
def token() -> str:
    return TokenService(SECRET).create_access_token(1, "user")


def test_the_twin_differs_only_in_the_last_character_and_decodes_to_the_same_bytes(token: str) -> None:
    twin = reencode_signature(token)
    assert twin != token and twin[:-1] == token[:-1]
    signature, twin_signature = token.rsplit(".", 1)[1], twin.rsplit(".", 1)[1]
    assert spare_bits(signature) == 2, "43 characters carry 258 bits for a 256-bit HMAC"
    assert decode_base64url(signature) == decode_base64url(twin_signature)


def test_pyjwt_refuses_the_twin_of_a_token_it_accepts(token: str) -> None:
    assert jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)["sub"] == "1"
    with pytest.raises(jwt.DecodeError, match="Invalid crypto padding"):
        jwt.decode(reencode_signature(token), SECRET, algorithms=["HS256"], audience=AUDIENCE)


def test_a_signature_without_spare_bits_cannot_be_respelled() -> None:
    assert spare_bits("AAAA") == 0
    with pytest.raises(ValueError, match="no spare bits"):
        reencode_signature("eyJh.eyJi.AAAA")
    with pytest.raises(ValueError):
        reencode_signature("no-dots-at-all")


@pytest.mark.parametrize("new_store", [MemoryStore, fakeredis_store])
def test_entry_size_counts_key_and_value_bytes_as_stored(new_store, token: str) -> None:
    store = new_store()
    store.set(denylist_key("abc"), "1795768091", ttl=60)
    store.set(f"blacklist:{token}", "revoked", ttl=60)
    jti, whole = entry_size(store, denylist_key("abc")), entry_size(store, f"blacklist:{token}")
    assert (jti.key_bytes, jti.value_bytes, jti.payload_bytes, jti.redis_bytes) == (12, 10, 22, None)
    assert whole.key_bytes == len("blacklist:") + len(token) and whole.value_bytes == 7
    with pytest.raises(KeyError):
        entry_size(store, "denylist:absent")


@pytest.mark.redis
def test_redis_counts_a_jti_entry_as_a_fraction_of_a_whole_token_entry(redis_url: str, token: str) -> None:
    store = redis_store(redis_url)
    try:
        jti = TokenService(SECRET).decode_token(token)["jti"]
        store.set(denylist_key(jti), "1795768091", ttl=60)
        store.set(f"blacklist:{token}", "revoked", ttl=60)
        small, large = entry_size(store, denylist_key(jti)), entry_size(store, f"blacklist:{token}")
        assert small.redis_bytes is not None and large.redis_bytes is not None
        assert small.redis_bytes > small.payload_bytes, "Redis adds its own overhead to each entry"
        assert large.redis_bytes >= 2.5 * small.redis_bytes
    finally:
        store.close()
