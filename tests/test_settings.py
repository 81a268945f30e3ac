"""Settings: every mistake in a server's setup is refused before anything starts."""

from __future__ import annotations

import pytest

from authcourse import ConfigurationError, MemoryStore, Settings
from authcourse.settings import MODES, REVOCATIONS


def test_the_defaults_are_a_session_server_on_fakeredis():
    settings = Settings()
    assert (settings.mode, settings.revocation, settings.store) == ("session", "none", "fakeredis")
    assert settings.bcrypt_rounds == 12 and not settings.secure_cookies


def test_the_modes_and_revocations_of_the_contract():
    assert MODES == ("session", "token", "cookie-token")
    assert REVOCATIONS == ("none", "blacklist", "version")


@pytest.mark.parametrize("mode", ["token", "cookie-token"])
@pytest.mark.parametrize("revocation", REVOCATIONS)
def test_token_modes_take_every_revocation(mode, revocation):
    assert Settings(mode=mode, revocation=revocation).revocation == revocation


@pytest.mark.parametrize("revocation", ["blacklist", "version"])
def test_session_mode_takes_no_token_revocation(revocation):
    with pytest.raises(ConfigurationError, match="revocation applies to the token modes"):
        Settings(mode="session", revocation=revocation)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "jwt"}, "mode must be one of session, token, cookie-token"),
        ({"mode": "token", "revocation": "denylist"}, "revocation must be one of none, blacklist, version"),
        ({"store": "mysql://db"}, "unknown store"),
        ({"store": "Memory"}, "unknown store"),
        ({"bcrypt_rounds": 3}, "bcrypt_rounds must be between 4 and 31"),
        ({"bcrypt_rounds": 32}, "bcrypt_rounds must be between 4 and 31"),
        ({"token_lifetime": 0}, "token_lifetime must be a positive"),
        ({"idle_timeout": -1}, "idle_timeout must be a positive"),
        ({"absolute_timeout": 0}, "absolute_timeout must be a positive"),
        ({"touch_interval": 0}, "touch_interval must be a positive"),
    ],
)
def test_a_bad_setting_is_refused_by_name(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        Settings(**kwargs)


@pytest.mark.parametrize(
    "store", ["memory", "fakeredis", "redis://localhost:6379/0", "rediss://h:1/0", "unix:///tmp/r.sock"]
)
def test_every_kind_of_store_is_accepted(store):
    assert Settings(store=store).store == store


def test_a_store_object_is_accepted_and_named():
    assert Settings(store=MemoryStore()).store_name == "memory"


def test_the_store_name_hides_a_redis_password():
    assert Settings(store="redis://:hunter2@db.example:6379/0").store_name == "redis://db.example:6379/0"


def test_the_store_name_hides_a_database_password():
    assert Settings(store="postgresql://me:hunter2@db.example/app").store_name == "postgresql://db.example/app"
    assert Settings(store="mongodb://me:hunter2@db.example/app").store_name == "mongodb://db.example/app"
