"""JWTs: what a token carries, how it is verified, and the two ways to take one back."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from authcourse import ConfigurationError, TokenService, later, load_secret
from authcourse.tokens import (
    AUDIENCE,
    ISSUER,
    MIN_SECRET_BYTES,
    REQUIRED_CLAIMS,
    TOKEN_LIFETIME,
    denylist_key,
    token_version_key,
)
from conftest import STORES

SECRET = b"k" * 32


@pytest.fixture(params=STORES)
def tokens(request, make_store) -> TokenService:
    return TokenService(SECRET, make_store(request.param))


@pytest.fixture(params=["memory", "fakeredis"])
def local_tokens(request, make_store) -> TokenService:
    return TokenService(SECRET, make_store(request.param))


def header_of(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def test_a_token_carries_who_when_and_which(tokens):
    token = tokens.create_access_token(7, "admin")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == "7" and claims["role"] == "admin"
    assert (claims["iss"], claims["aud"]) == ("authcourse", "authcourse-api")
    assert claims["exp"] - claims["iat"] == TOKEN_LIFETIME == 24 * 60 * 60
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    assert "ver" not in claims
    assert header_of(token) == {"alg": "HS256", "typ": "JWT"}


def test_a_version_is_carried_when_given(tokens):
    claims = tokens.decode_token(tokens.create_access_token(7, "user", version=3))
    assert claims["ver"] == 3


def test_every_token_has_its_own_jti(tokens):
    jtis = {tokens.decode_token(tokens.create_access_token(7, "user"))["jti"] for _ in range(100)}
    assert len(jtis) == 100


def test_decode_returns_the_claims_of_a_good_token(tokens):
    token = tokens.create_access_token(7, "user")
    assert tokens.decode_token(token) == jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)


def test_decoded_claims_are_a_copy_the_caller_may_change(tokens):
    token = tokens.create_access_token(7, "user")
    tokens.decode_token(token)["sub"] = "2"
    assert tokens.decode_token(token)["sub"] == "7"


def test_a_token_from_another_secret_is_refused():
    token = TokenService(b"o" * 32).create_access_token(7, "user")
    with pytest.raises(jwt.InvalidSignatureError):
        TokenService(SECRET).decode_token(token)


def test_the_lifetime_is_configurable():
    service = TokenService(SECRET, lifetime=60)
    claims = service.decode_token(service.create_access_token(7, "user"))
    assert claims["exp"] - claims["iat"] == 60


def test_a_token_expires_after_its_lifetime():
    service = TokenService(SECRET, lifetime=60)
    token = service.create_access_token(7, "user")
    service.decode_token(token)  # verified once, and so perhaps remembered
    with later(seconds=59):
        service.decode_token(token)
    with later(seconds=61), pytest.raises(jwt.ExpiredSignatureError):
        service.decode_token(token)


def good_claims(**changes: object) -> dict:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "7", "role": "user", "iat": 1, "exp": 4_000_000_000, "jti": "j"}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def test_a_hand_made_token_with_every_claim_is_accepted():
    assert TokenService(SECRET).decode_token(jwt.encode(good_claims(), SECRET, algorithm="HS256"))["sub"] == "7"


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_every_required_claim_must_be_present(claim):
    with pytest.raises(jwt.MissingRequiredClaimError):
        TokenService(SECRET).decode_token(jwt.encode(good_claims(**{claim: None}), SECRET, algorithm="HS256"))


def test_the_required_claims_are_exp_iat_sub_jti_iss_and_aud():
    assert sorted(REQUIRED_CLAIMS) == ["aud", "exp", "iat", "iss", "jti", "sub"]


# Whom a token is from and for (RFC 8725 sections 3.8, 3.9) -----------------------------------


def test_a_sister_service_s_token_without_aud_is_refused_under_the_shared_key():
    # The sister service signs with the same key and simply leaves `aud` out: PyJWT on its own
    # (no audience= given) would take it; this service requires its own `aud`.
    sister = jwt.encode(good_claims(iss="reports", aud=None), SECRET, algorithm="HS256")
    assert jwt.decode(sister, SECRET, algorithms=["HS256"])["sub"] == "7"
    with pytest.raises(jwt.MissingRequiredClaimError, match="aud"):
        TokenService(SECRET).decode_token(sister)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"aud": "reports"}, jwt.InvalidAudienceError),
        ({"aud": ["reports", AUDIENCE]}, jwt.InvalidAudienceError),  # one audience per token, exactly ours
        ({"iss": "reports"}, jwt.InvalidIssuerError),
        ({"iss": None}, jwt.MissingRequiredClaimError),
    ],
)
def test_a_token_from_another_issuer_or_for_another_audience_is_refused(changes, error):
    with pytest.raises(error):
        TokenService(SECRET).decode_token(jwt.encode(good_claims(**changes), SECRET, algorithm="HS256"))


def test_a_remembered_token_is_not_accepted_by_a_service_with_another_audience():
    ours = TokenService(SECRET)
    token = ours.create_access_token(7, "user")
    ours.decode_token(token)
    with pytest.raises(jwt.InvalidAudienceError):
        TokenService(SECRET, audience="reports").decode_token(token)


def test_issuer_and_audience_are_the_service_s_own():
    reports = TokenService(SECRET, issuer="reports-issuer", audience="reports")
    claims = reports.decode_token(reports.create_access_token(7, "user"))
    assert (claims["iss"], claims["aud"]) == ("reports-issuer", "reports")


# Revocation ------------------------------------------------------------------------------------


def test_revoke_denylists_the_token_until_it_would_expire(tokens):
    claims = tokens.decode_token(tokens.create_access_token(7, "user"))
    assert not tokens.is_revoked(claims)
    ttl = tokens.revoke_token(claims)
    assert TOKEN_LIFETIME - 5 < ttl <= TOKEN_LIFETIME
    assert tokens.is_revoked(claims)
    stored_ttl = tokens.store.ttl(denylist_key(claims["jti"]))
    assert stored_ttl is not None and abs(stored_ttl - ttl) < 5


def test_revoking_one_token_leaves_the_others(tokens):
    first, second = (tokens.decode_token(tokens.create_access_token(7, "user")) for _ in range(2))
    tokens.revoke_token(first)
    assert not tokens.is_revoked(second)


def test_revoking_an_expired_token_stores_nothing(tokens):
    claims = {"jti": "old", "exp": 1_000_000_000, "sub": "7"}
    assert tokens.revoke_token(claims) == 0.0
    assert tokens.store.keys() == []


def test_the_denylist_entry_disappears_when_the_token_would_have_expired(local_tokens):
    claims = local_tokens.decode_token(local_tokens.create_access_token(7, "user"))
    local_tokens.revoke_token(claims)
    with later(hours=23):
        assert local_tokens.is_revoked(claims)
    with later(hours=24, seconds=2):
        assert not local_tokens.is_revoked(claims)
        assert local_tokens.store.keys() == []


def test_a_user_s_version_starts_at_zero_and_goes_up(tokens):
    assert tokens.current_version(7) == 0
    assert tokens.revoke_all_for_user(7) == 1
    assert tokens.revoke_all_for_user("7") == 2
    assert tokens.current_version(7) == 2
    assert tokens.store.get(token_version_key(7)) == "2"
    assert tokens.current_version(8) == 0


def test_bumping_the_version_makes_older_tokens_stale(tokens):
    old = tokens.decode_token(tokens.create_access_token(7, "user", version=tokens.current_version(7)))
    assert tokens.is_current_version(old)
    tokens.revoke_all_for_user(7)
    assert not tokens.is_current_version(old)
    new = tokens.decode_token(tokens.create_access_token(7, "user", version=tokens.current_version(7)))
    assert tokens.is_current_version(new)


def test_a_token_without_a_version_is_never_current(tokens):
    assert not tokens.is_current_version(tokens.decode_token(tokens.create_access_token(7, "user")))


def test_revocation_without_a_store_is_a_configuration_error():
    service = TokenService(SECRET)
    claims = service.decode_token(service.create_access_token(7, "user"))
    for revoke in (service.revoke_token, service.is_revoked, service.is_current_version):
        with pytest.raises(ConfigurationError, match="store"):
            revoke(claims)


# The secret ------------------------------------------------------------------------------------


def test_without_a_secret_each_call_makes_a_random_one(monkeypatch):
    monkeypatch.delenv("AUTHCOURSE_SECRET", raising=False)
    first, second = load_secret(), load_secret()
    assert len(first) == MIN_SECRET_BYTES == 32
    assert first != second


def test_the_secret_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("AUTHCOURSE_SECRET", "e" * 40)
    assert load_secret() == b"e" * 40


def test_a_given_secret_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("AUTHCOURSE_SECRET", "e" * 40)
    assert load_secret("g" * 32) == b"g" * 32
    assert load_secret(b"b" * 32) == b"b" * 32


@pytest.mark.parametrize("secret", ["", "short", "x" * 31, b"x" * 31, "é" * 15])
def test_a_secret_under_32_bytes_is_refused(secret):
    with pytest.raises(ConfigurationError, match="at least 32"):
        load_secret(secret)


def test_a_weak_secret_in_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv("AUTHCOURSE_SECRET", "secret")
    with pytest.raises(ConfigurationError, match="the secret is 6 bytes"):
        load_secret()


def test_32_bytes_counted_in_utf8_are_enough():
    assert load_secret("é" * 16) == "é".encode() * 16


def test_extra_claims_add_to_the_token_and_cannot_replace_what_the_service_sets(tokens):
    claims = tokens.decode_token(tokens.create_access_token(7, "user", extra_claims={"fam": "abc"}))
    assert claims["fam"] == "abc" and claims["sub"] == "7"
    for name, value in [("exp", 2**40), ("sub", "1"), ("role", "admin"), ("jti", "fixed"), ("ver", 99), ("iat", 0)]:
        with pytest.raises(ValueError, match=f"may not set {name}"):
            tokens.create_access_token(7, "user", extra_claims={name: value})


# The signature cache ----------------------------------------------------------------------------


def test_a_service_with_a_cache_remembers_a_checked_token(monkeypatch):
    service = TokenService(SECRET)
    token = service.create_access_token(7, "user")
    calls = count_pyjwt_decodes(monkeypatch)
    for _ in range(3):
        service.decode_token(token)
    assert len(calls) == 1 and len(service.verified) == 1


def test_a_service_without_a_cache_checks_the_signature_every_time(monkeypatch):
    service = TokenService(SECRET, cache_size=0)
    token = service.create_access_token(7, "user")
    calls = count_pyjwt_decodes(monkeypatch)
    for _ in range(3):
        service.decode_token(token)
    assert len(calls) == 3 and len(service.verified) == 0


def count_pyjwt_decodes(monkeypatch) -> list[str]:
    calls: list[str] = []
    decode = jwt.decode

    def counting(token, *args, **kwargs):
        calls.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return calls
