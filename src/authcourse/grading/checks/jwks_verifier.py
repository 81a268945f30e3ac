"""Exercise 13: verify a token against the issuer's JWK Set, with the algorithm pinned to RS256.

The learner's `verify_token(token, jwks)` runs in the kernel (the harness's `verify_token`
operation); the judge holds the issuer's private keys, mints every token itself and hands the
function the key set as `/.well-known/jwks.json` would serve it. A token is accepted when the
function returns its claims, refused when it raises an error of PyJWT (`jwt.PyJWTError`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from ...tokens import KeySet, generate_private_key
from ..remote import Remote
from ..runtime import Exercise, expect

ISSUER = "https://login.example"
AUDIENCE = "reports"


@dataclass
class Issuer:
    """The login service of the exercise: an RS256 key set (an old key and the current signer) and an ES256 key."""

    remote: Remote
    keys: KeySet
    private: dict[str, Any]  # kid -> the issuer's private key
    old_kid: str
    es_key: Any
    es_kid: str = "es256-next"

    def jwks(self, *, without: str | None = None) -> dict[str, Any]:
        """The issuer's JWK Set: its RS256 keys, and the ES256 key it will sign with one day (published early)."""
        es = jwt.algorithms.ECAlgorithm.to_jwk(self.es_key.public_key(), as_dict=True)
        keys = [jwk for jwk in self.keys.jwks()["keys"] if jwk["kid"] != without]
        return {"keys": [*keys, {**es, "kid": self.es_kid, "alg": "ES256", "use": "sig"}]}

    def claims(self, sub: str = "1", **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "role": "user", "iat": now, "exp": now + 600, "jti": "c1"}
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def sign(self, claims: dict[str, Any] | None = None, *, kid: str | None = None) -> str:
        """An RS256 token of the issuer's key `kid` (the current signer by default)."""
        kid = kid or self.keys.signing_kid
        return jwt.encode(claims or self.claims(), self.private[kid], algorithm="RS256", headers={"kid": kid})

    def verify(self, token: str, jwks: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the learner's verify_token did: `{"accepted": True, "claims": ...}` or `{"accepted": False, ...}`."""
        return dict(self.remote.call("verify_token", token=token, jwks=jwks or self.jwks()))


@contextmanager
def context(remote: Remote) -> Iterator[Issuer]:
    keys = KeySet("RS256", generate=False)
    old, current = generate_private_key("RS256"), generate_private_key("RS256")
    old_kid = keys.add_key(old)
    private = {old_kid: old, keys.add_key(current): current}  # the second is the signer; the old key still verifies
    yield Issuer(remote, keys, private, old_kid, generate_private_key("ES256"))


EXERCISE = Exercise("jwks-verifier", ("verify_token",), context=context)


def accepted(issuer: Issuer, token: str, why: str, jwks: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = issuer.verify(token, jwks)
    expect(answer["accepted"], f"refused ({answer.get('error')}): {why}")
    claims = answer["claims"]
    expect(isinstance(claims, dict) and claims.get("sub") == "1",
           f"verify_token must return the token's claims, with its sub; it returned {claims!r}")
    return claims


def refused(issuer: Issuer, token: str, why: str, jwks: dict[str, Any] | None = None) -> str:
    answer = issuer.verify(token, jwks)
    expect(not answer["accepted"], f"accepted: {why}")
    return str(answer.get("error", ""))


def forge(header: dict[str, Any], claims: dict[str, Any], key: bytes | None = None) -> str:
    """A token made by hand: any header, an HMAC-SHA256 signature with `key` (none without one)."""
    part = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()  # noqa: E731
    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
    signature = part(hmac.digest(key, signing_input.encode(), hashlib.sha256)) if key is not None else ""
    return f"{signing_input}.{signature}"


def public_pem(issuer: Issuer) -> bytes:
    signer = next(jwk for jwk in issuer.jwks()["keys"] if jwk["kid"] == issuer.keys.signing_kid)
    public = jwt.PyJWK(signer).key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@EXERCISE.case("a token of the issuer's signing key: accepted, and its claims returned")
def valid(issuer: Issuer) -> None:
    accepted(issuer, issuer.sign(), "the issuer's current key signed it, for your audience, unexpired "
                                    "(pick the key whose kid the token names)")


@EXERCISE.case("a token of the older key, still in the key set: accepted (a rotation logs no one out)")
def older_key(issuer: Issuer) -> None:
    accepted(issuer, issuer.sign(kid=issuer.old_kid),
             "pick the key whose kid the token names, not the first or the newest key of the set")


@EXERCISE.case("a token whose key was retired (its kid no longer in the key set): refused")
def retired(issuer: Issuer) -> None:
    token = issuer.sign(kid=issuer.old_kid)
    accepted(issuer, token, "its key is still in the key set")
    refused(issuer, token, "its kid left the key set: use only the key set you were given now, "
                           "never keys remembered from an earlier call", issuer.jwks(without=issuer.old_kid))


@EXERCISE.case("a token signed by a stranger's key under the issuer's kid: refused")
def stranger(issuer: Issuer) -> None:
    token = jwt.encode(issuer.claims(sub="2"), generate_private_key("RS256"), algorithm="RS256",
                       headers={"kid": issuer.keys.signing_kid})
    refused(issuer, token, "the kid names the issuer's key, but that key did not sign it: verify the signature")


@EXERCISE.case("an ES256 token of the key set's ES256 key: refused (pin RS256, whatever the header or the key says)")
def other_algorithm(issuer: Issuer) -> None:
    token = jwt.encode(issuer.claims(), issuer.es_key, algorithm="ES256", headers={"kid": issuer.es_kid})
    refused(issuer, token, 'pin algorithms=["RS256"]; never take the algorithm from the token\'s header or the key')


@EXERCISE.case("a token for another audience: refused")
def other_audience(issuer: Issuer) -> None:
    refused(issuer, issuer.sign(issuer.claims(aud="billing")), f"check the audience: audience={AUDIENCE!r}")


@EXERCISE.case("an expired token: refused")
def expired(issuer: Issuer) -> None:
    now = int(time.time())
    refused(issuer, issuer.sign(issuer.claims(iat=now - 7200, exp=now - 3600)), "exp has passed: never skip it")
