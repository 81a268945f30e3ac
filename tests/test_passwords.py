"""bcrypt hashing: the work factor, the 72-byte limit, and what is refused."""

from __future__ import annotations

import bcrypt
import pytest

from authcourse import DEFAULT_ROUNDS, hash_password, verify_password
from authcourse.errors import PasswordTooLong
from authcourse.passwords import MAX_PASSWORD_BYTES, dummy_hash, password_bytes
from conftest import ROUNDS


def test_a_hash_verifies_its_own_password_only():
    hashed = hash_password("wonderland", ROUNDS)
    assert verify_password("wonderland", hashed)
    assert not verify_password("Wonderland", hashed)
    assert not verify_password("", hashed)


def test_the_same_password_hashes_differently_each_time():
    assert hash_password("wonderland", ROUNDS) != hash_password("wonderland", ROUNDS)


def test_the_hash_records_its_rounds():
    assert hash_password("x", ROUNDS).startswith("$2b$04$")
    assert hash_password("x", 5).startswith("$2b$05$")


def test_the_default_work_factor_is_12_and_recorded_in_the_hash():
    assert DEFAULT_ROUNDS == 12
    hashed = hash_password("wonderland")  # the default itself is the subject here: about 0.25 s
    assert hashed.startswith("$2b$12$")
    assert verify_password("wonderland", hashed)


def test_a_hash_is_ascii_text_of_bcrypt_s_length():
    hashed = hash_password("wonderland", ROUNDS)
    assert isinstance(hashed, str) and hashed.isascii() and len(hashed) == 60


def test_72_bytes_is_the_limit():
    assert MAX_PASSWORD_BYTES == 72
    hashed = hash_password("a" * 72, ROUNDS)
    assert verify_password("a" * 72, hashed)
    with pytest.raises(PasswordTooLong, match="72 bytes"):
        hash_password("a" * 73, ROUNDS)


def test_the_limit_counts_utf8_bytes_not_characters():
    euro = "€"  # 3 bytes in UTF-8
    assert verify_password(euro * 24, hash_password(euro * 24, ROUNDS))
    with pytest.raises(PasswordTooLong):
        password_bytes(euro * 25)  # 25 characters, 75 bytes
    with pytest.raises(PasswordTooLong):
        password_bytes("😀" * 19)  # 19 characters, 76 bytes


def test_a_too_long_password_is_refused_at_verify_too_not_truncated():
    hashed = hash_password("a" * 72, ROUNDS)
    with pytest.raises(PasswordTooLong):
        verify_password("a" * 72 + "b", hashed)


def test_password_too_long_is_a_value_error():
    assert issubclass(PasswordTooLong, ValueError)


@pytest.mark.parametrize("password", [b"bytes", None, 123, ["a"]])
def test_only_str_passwords_are_accepted(password):
    with pytest.raises(TypeError, match="str"):
        hash_password(password, ROUNDS)
    with pytest.raises(TypeError, match="str"):
        verify_password(password, hash_password("x", ROUNDS))


def test_verify_runs_bcrypt_checkpw(monkeypatch):
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *args: calls.append(args) or real(*args))
    assert verify_password("x", hash_password("x", ROUNDS))
    assert len(calls) == 1


def test_the_dummy_hash_costs_what_a_real_one_does_and_matches_nothing():
    hashed = dummy_hash(ROUNDS)
    assert hashed.startswith("$2b$04$")
    assert dummy_hash(ROUNDS) is hashed  # computed once per work factor
    for guess in ["", "wonderland", "builder", hashed]:
        assert not verify_password(guess, hashed)


def test_rounds_outside_bcrypt_s_range_are_refused():
    with pytest.raises(ValueError):
        hash_password("x", 3)
