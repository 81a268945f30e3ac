"""A small word list of secrets people actually pick, for chapter 11's dictionary attack on HS256.

Real lists (jwt-secrets, rockyou) hold thousands to millions of entries; this one is tiny on
purpose: a few dozen common words, each also capitalised and with 0 to 99 appended, about
twelve thousand guesses, which a laptop tries in well under a second.
"""

from __future__ import annotations

from collections.abc import Iterator

COMMON_SECRETS = (
    "secret", "password", "passw0rd", "jwt", "jwtsecret", "jwt-secret", "jwt_secret", "token", "key",
    "secretkey", "secret-key", "secret_key", "mysecret", "supersecret", "topsecret", "changeme", "change-me",
    "default", "admin", "administrator", "root", "test", "testing", "dev", "development", "prod", "qwerty",
    "letmein", "welcome", "hello", "iloveyou", "monkey", "dragon", "master", "shadow", "sunshine", "princess",
    "football", "baseball", "superman", "batman", "trustno1", "abc123", "123456", "12345678", "1234567890",
    "your-256-bit-secret", "your-secret-key", "my-secret", "s3cr3t", "node", "express", "flask", "django",
)


def candidate_secrets() -> Iterator[bytes]:
    """Every guess of the list, in order: each word as is, capitalised, then with 0 to 99 appended."""
    for word in COMMON_SECRETS:
        for form in (word, word.capitalize()):
            yield form.encode()
            for number in range(100):
                yield f"{form}{number}".encode()
