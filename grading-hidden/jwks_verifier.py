"""Hidden cases of exercise 13, jwks-verifier."""

from __future__ import annotations

import time
from typing import Any

import jwt

from authcourse.grading.checks.jwks_verifier import EXERCISE, ISSUER, accepted, forge, public_pem, refused
from authcourse.tokens import generate_private_key


@EXERCISE.case("a token without exp: refused", hidden=True)
def no_exp(issuer: Any) -> None:
    refused(issuer, issuer.sign(issuer.claims(exp=None)), 'require exp: options={"require": ["exp", ...]}')


@EXERCISE.case("a token without aud: refused", hidden=True)
def no_aud(issuer: Any) -> None:
    refused(issuer, issuer.sign(issuer.claims(aud=None)), "a token for no audience is not a token for yours")


@EXERCISE.case("a token of another issuer: refused", hidden=True)
def other_issuer(issuer: Any) -> None:
    refused(issuer, issuer.sign(issuer.claims(iss="https://evil.example")), f"check the issuer: issuer={ISSUER!r}")


@EXERCISE.case("alg none under the issuer's kid: refused", hidden=True)
def alg_none(issuer: Any) -> None:
    refused(issuer, forge({"alg": "none", "kid": issuer.keys.signing_kid}, issuer.claims(sub="2")),
            'an unsigned token: pin algorithms=["RS256"]')


@EXERCISE.case("HS256 keyed with the issuer's public key (key confusion): refused", hidden=True)
def key_confusion(issuer: Any) -> None:
    token = forge({"alg": "HS256", "kid": issuer.keys.signing_kid}, issuer.claims(sub="2"), public_pem(issuer))
    refused(issuer, token, 'the public key became an HMAC secret: pin algorithms=["RS256"]')


@EXERCISE.case("no kid, or a kid that is a number or unknown: refused with a PyJWT error, never a crash", hidden=True)
def bad_kids(issuer: Any) -> None:
    private = issuer.private[issuer.keys.signing_kid]
    refused(issuer, jwt.encode(issuer.claims(), private, algorithm="RS256"), "the token names no key")
    refused(issuer, jwt.encode(issuer.claims(), private, algorithm="RS256", headers={"kid": "nope"}),
            "no key of the set has that kid")
    with_number = forge({"alg": "RS256", "kid": 7}, issuer.claims())
    refused(issuer, with_number, "a kid must be a string of the key set")


@EXERCISE.case("a key published since the last call: its token verifies with the key set as given now", hidden=True)
def new_key(issuer: Any) -> None:
    accepted(issuer, issuer.sign(), "the current signer")
    key = generate_private_key("RS256")
    kid = issuer.keys.add_key(key, sign=False)  # published, not yet the signer
    issuer.private[kid] = key
    accepted(issuer, issuer.sign(kid=kid), "its key is in the key set you were given: use the set of each call")


@EXERCISE.case("an expiry one second away: accepted now; a token issued in the future: refused", hidden=True)
def time_window(issuer: Any) -> None:
    now = int(time.time())
    accepted(issuer, issuer.sign(issuer.claims(iat=now - 599, exp=now + 2)), "it expires in two seconds")
    refused(issuer, issuer.sign(issuer.claims(iat=now + 3600, exp=now + 7200)), "issued an hour from now")
