"""DELIBERATELY VULNERABLE CODE, FOR TEACHING ONLY. NEVER USE ANY OF IT TO PROTECT ANYTHING.

########################################################################################
#  Every function here makes one mistake that real JWT verifiers have made, on        #
#  purpose, so that chapter 11 can attack it and show why the hardened code           #
#  (tokens.py) refuses the same attack. Nothing in the package uses this module:      #
#  only the chapters, the tests and `authcourse serve --vulnerable` (loopback only)   #
#  import it. Every public name says "vulnerable".                                    #
########################################################################################

The JWT verifiers are written by hand (base64, JSON, `hmac`, `cryptography`) because a
well-kept library such as PyJWT refuses most of these mistakes (FACTS.md: it will not use an
RSA public key as an HMAC secret). Each one has a single flaw, named in its name:

- `vulnerable_decode_without_verifying`: reads the claims, never checks the signature;
- `vulnerable_decode_trusting_alg`: takes the algorithm from the token's own header, so
  `alg: none` needs no signature and `HS256` turns the RSA *public* key into an HMAC secret;
- `vulnerable_decode_with_weak_secret`: correct HS256, with a secret from a word list;
- `vulnerable_decode_with_kid_path`: reads the key from a file named by the header's `kid`;
- `vulnerable_decode_trusting_jwk`: verifies with the public key embedded in the header;
- `vulnerable_decode_trusting_jku`: fetches the key set from the header's `jku` URL (fenced
  here to loopback URLs: the course never lets it reach any other address);
- `vulnerable_decode_ignoring_audience`: a good signature, but `aud` and `iss` never read.

"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..clock import now

VULNERABLE_WEAK_SECRET = b"dragon42"  # in any word list of common secrets with digits appended
VULNERABLE_KEY_FILE_LIMIT = 4096  # bytes read from a `kid` file
VULNERABLE_FETCH_TIMEOUT = 2.0  # seconds for a `jku` fetch


class VulnerableTokenError(Exception):
    """Raised when even a vulnerable verifier refuses a token (malformed, bad signature, expired)."""


class VulnerableFenceError(VulnerableTokenError):
    """Raised when a vulnerable verifier is asked to reach outside the loopback fence of the course."""


# Reading a token by hand ------------------------------------------------------------------


def vulnerable_b64decode(part: str) -> bytes:
    try:
        return base64.b64decode(part + "=" * (-len(part) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as error:
        raise VulnerableTokenError(f"bad base64url: {error}") from None


def vulnerable_split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, claims, the signed bytes and the signature of a compact JWS, unchecked."""
    parts = token.split(".")
    if len(parts) != 3:
        raise VulnerableTokenError("a JWT has three parts")
    try:
        header = json.loads(vulnerable_b64decode(parts[0]))
        claims = json.loads(vulnerable_b64decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise VulnerableTokenError("header or claims are not JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise VulnerableTokenError("header and claims must be JSON objects")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), vulnerable_b64decode(parts[2])


def vulnerable_check_expiry(claims: dict[str, Any]) -> dict[str, Any]:
    """The one rule every verifier here keeps: an `exp` in the past is refused."""
    expires = claims.get("exp")
    if isinstance(expires, (int, float)) and expires <= now():
        raise VulnerableTokenError("expired")
    return claims


def vulnerable_check_hs256(signing_input: bytes, signature: bytes, key: bytes) -> None:
    if not hmac.compare_digest(hmac.digest(key, signing_input, hashlib.sha256), signature):
        raise VulnerableTokenError("bad HMAC signature")


def vulnerable_check_rs256(signing_input: bytes, signature: bytes, public_key: rsa.RSAPublicKey) -> None:
    try:
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise VulnerableTokenError("bad RSA signature") from None


def vulnerable_load_rsa_public_key(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise VulnerableTokenError("not an RSA public key")
    return key


# The verifiers, one flaw each -------------------------------------------------------------------


def vulnerable_decode_without_verifying(token: str) -> dict[str, Any]:
    """FLAW: decodes the claims and never looks at the signature (RFC 8725 section 3.3)."""
    _, claims, _, _ = vulnerable_split(token)
    return vulnerable_check_expiry(claims)


def vulnerable_decode_trusting_alg(token: str, public_key_pem: bytes) -> dict[str, Any]:
    """FLAW: the token's header chooses the algorithm (RFC 8725 sections 2.1 and 3.1).

    Meant for RS256 tokens checked with `public_key_pem`. But `alg: none` skips the check, and
    `alg: HS256` makes it an HMAC whose key is the public key's PEM bytes, which anyone can read.
    """
    header, claims, signing_input, signature = vulnerable_split(token)
    algorithm = str(header.get("alg", "")).lower()
    if algorithm == "none":
        pass
    elif algorithm == "hs256":
        vulnerable_check_hs256(signing_input, signature, public_key_pem)
    elif algorithm == "rs256":
        vulnerable_check_rs256(signing_input, signature, vulnerable_load_rsa_public_key(public_key_pem))
    else:
        raise VulnerableTokenError(f"unsupported alg {header.get('alg')!r}")
    return vulnerable_check_expiry(claims)


def vulnerable_decode_with_weak_secret(token: str, secret: bytes = VULNERABLE_WEAK_SECRET) -> dict[str, Any]:
    """FLAW: the code is right (HS256 only), the key is a guessable word (RFC 8725 sections 2.2 and 3.5)."""
    header, claims, signing_input, signature = vulnerable_split(token)
    if header.get("alg") != "HS256":
        raise VulnerableTokenError("HS256 only")
    vulnerable_check_hs256(signing_input, signature, secret)
    return vulnerable_check_expiry(claims)


def vulnerable_decode_with_kid_path(token: str, key_dir: str | Path) -> dict[str, Any]:
    """FLAW: the HMAC key is read from `key_dir / kid`, with `kid` as the token says (RFC 8725 section 3.10).

    `kid: ../../../../../../dev/null` makes the key the empty string, which the attacker knows.
    """
    header, claims, signing_input, signature = vulnerable_split(token)
    if header.get("alg") != "HS256" or not isinstance(header.get("kid"), str):
        raise VulnerableTokenError("HS256 with a kid only")
    try:
        with open(Path(key_dir) / header["kid"], "rb") as key_file:
            key = key_file.read(VULNERABLE_KEY_FILE_LIMIT)
    except (OSError, ValueError):
        raise VulnerableTokenError("no such key") from None
    vulnerable_check_hs256(signing_input, signature, key)
    return vulnerable_check_expiry(claims)


def vulnerable_decode_trusting_jwk(token: str, public_key_pem: bytes) -> dict[str, Any]:
    """FLAW: a public key in the header (`jwk`) is used instead of ours (RFC 8725 section 3.10)."""
    header, claims, signing_input, signature = vulnerable_split(token)
    if header.get("alg") != "RS256":
        raise VulnerableTokenError("RS256 only")
    if isinstance(header.get("jwk"), dict):
        key = vulnerable_key_from_jwk(header["jwk"])
    else:
        key = vulnerable_load_rsa_public_key(public_key_pem)
    vulnerable_check_rs256(signing_input, signature, key)
    return vulnerable_check_expiry(claims)


def vulnerable_decode_trusting_jku(token: str, public_key_pem: bytes) -> dict[str, Any]:
    """FLAW: the key set is fetched from the URL in the header (`jku`) (RFC 8725 section 3.10).

    Fenced: only a loopback URL (127.0.0.0/8, ::1, localhost) is ever fetched.
    """
    header, claims, signing_input, signature = vulnerable_split(token)
    if header.get("alg") != "RS256":
        raise VulnerableTokenError("RS256 only")
    if isinstance(header.get("jku"), str):
        key = vulnerable_key_from_jku(header["jku"], header.get("kid"))
    else:
        key = vulnerable_load_rsa_public_key(public_key_pem)
    vulnerable_check_rs256(signing_input, signature, key)
    return vulnerable_check_expiry(claims)


def vulnerable_decode_ignoring_audience(token: str, secret: bytes) -> dict[str, Any]:
    """FLAW: a good HS256 signature is enough; whom the token was for (`aud`, `iss`) is never read.

    With one secret shared by two services, a token one of them issued opens the other
    (RFC 8725 sections 2.8, 3.8 and 3.9).
    """
    header, claims, signing_input, signature = vulnerable_split(token)
    if header.get("alg") != "HS256":
        raise VulnerableTokenError("HS256 only")
    vulnerable_check_hs256(signing_input, signature, secret)
    return vulnerable_check_expiry(claims)


# Keys from the token ------------------------------------------------------------------------------


def vulnerable_key_from_jwk(jwk_dict: dict[str, Any]) -> rsa.RSAPublicKey:
    try:
        key = jwt.PyJWK(jwk_dict, algorithm="RS256").key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        raise VulnerableTokenError("unreadable jwk") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise VulnerableTokenError("the jwk is not an RSA public key")
    return key


def vulnerable_is_loopback_url(url: str) -> bool:
    """True for http(s) URLs on 127.0.0.0/8, ::1 or localhost: the only ones the course lets a verifier fetch."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def vulnerable_key_from_jku(url: str, kid: object) -> rsa.RSAPublicKey:
    if not vulnerable_is_loopback_url(url):
        raise VulnerableFenceError(f"the course fetches jku only from loopback URLs, not {url!r}")
    try:
        response = httpx.get(url, timeout=VULNERABLE_FETCH_TIMEOUT, follow_redirects=False)
        keys = response.json()["keys"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        raise VulnerableTokenError("could not fetch a key set from jku") from None
    for jwk_dict in keys if isinstance(keys, list) else []:
        if isinstance(jwk_dict, dict) and (kid is None or jwk_dict.get("kid") == kid):
            return vulnerable_key_from_jwk(jwk_dict)
    raise VulnerableTokenError("no matching key in the jku key set")
