"""Password hashing with bcrypt.

The work factor (`rounds`) is the base-2 log of the number of key-setup iterations: each +1
doubles the cost of a login and of every guess an attacker makes against a stolen hash.
`DEFAULT_ROUNDS = 12` costs about a quarter of a second here: OWASP's floor is 10, and 12 is
what a login that happens once per session can easily afford.

bcrypt reads at most 72 bytes of a password. bcrypt 5 refuses longer input instead of silently
cutting it; we refuse it too, with our own error, before it reaches bcrypt.
"""

from __future__ import annotations

import functools

import bcrypt

from .errors import PasswordTooLong

DEFAULT_ROUNDS = 12
MAX_PASSWORD_BYTES = 72


def password_bytes(password: str) -> bytes:
    """Encode a password as UTF-8, refusing what bcrypt cannot use in full."""
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong(f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8")
    return encoded


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    """Hash a password with a fresh random salt; the result records its own rounds and salt."""
    return bcrypt.hashpw(password_bytes(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """True if the password matches the hash (bcrypt compares in constant time)."""
    return bcrypt.checkpw(password_bytes(password), hashed.encode("ascii"))


@functools.cache
def dummy_hash(rounds: int = DEFAULT_ROUNDS) -> str:
    """A hash of a random password, the same cost as real ones: verified when the user is unknown."""
    return hash_password(bcrypt.gensalt().decode("ascii")[7:], rounds)
