"""A DELIBERATELY VULNERABLE SERVER, FOR TEACHING ONLY, ON LOOPBACK ONLY. NEVER EXPOSE THEM.

########################################################################################
#  `VulnerableLabServer` serves the vulnerable JWT verifiers of doors.py next to the   #
#  package's hardened one, on one live server, for chapter 11 and for outside tools   #
#  (`authcourse serve --vulnerable`). It refuses to listen anywhere but a loopback    #
#  address. Nothing else in the package imports this.                                 #
########################################################################################

The lab's routes, for each door (`unverified`, `alg`, `weak-secret`, `kid`, `jwk`, `jku`,
`audience`, and `hardened`, the package's own `TokenService`):

    POST /{door}/login        {"email", "password"} -> {"token": <a JWT in that door's style>}
    GET  /{door}/api/profile  the user the token names, or 401 with the reason
    GET  /{door}/api/admin    200 for an admin (bob, user 2), 403 for a user, 401 for a refused token

plus what real deployments publish and what the attacks need:

    GET  /.well-known/jwks.json   the lab's RSA public key (the `alg`, `jwk` and `jku` doors sign with it)
    POST /reports/login           a sister service that shares the `audience` door's secret and numbers
                                  its users differently: there alice is user 2
    PUT  /exploit/{name}          an attacker's file, served back at GET /exploit/{name} (for `jku`)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ..app import add_error_handlers
from ..auth import respond
from ..passwords import DEFAULT_ROUNDS
from ..server import CourseServer
from ..tokens import TokenService
from ..users import UserDirectory
from .doors import (
    VULNERABLE_WEAK_SECRET,
    VulnerableFenceError,
    VulnerableTokenError,
    vulnerable_decode_ignoring_audience,
    vulnerable_decode_trusting_alg,
    vulnerable_decode_trusting_jku,
    vulnerable_decode_trusting_jwk,
    vulnerable_decode_with_kid_path,
    vulnerable_decode_with_weak_secret,
    vulnerable_decode_without_verifying,
)
from .fence import vulnerable_require_loopback

VULNERABLE_DOORS = ("unverified", "alg", "weak-secret", "kid", "jwk", "jku", "audience")
LAB_DOORS = (*VULNERABLE_DOORS, "hardened")
LAB_KID = "lab-key-1"
LAB_AUDIENCE = "authcourse-lab"
SISTER_AUDIENCE = "reports"
SISTER_USER_IDS = {"alice@example.com": 2, "bob@example.com": 1}  # the sister service numbers users its own way
LAB_TOKEN_LIFETIME = 60 * 60  # seconds
MAX_EXPLOIT_BYTES = 64 * 1024
MAX_EXPLOITS = 100  # files the exploit server keeps
WARNING = (
    "WARNING: this server is DELIBERATELY VULNERABLE (authcourse chapter 11). It accepts forged JWTs.\n"
    "         Loopback only, for practice with tools such as Burp or jwt_tool. Never expose it."
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class VulnerableLabKeys:
    """Every key of the lab, made fresh for each lab."""

    hs_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    rsa_private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    key_dir: tempfile.TemporaryDirectory = field(default_factory=lambda: tempfile.TemporaryDirectory(prefix="authcourse-lab-keys-"))

    def __post_init__(self) -> None:
        (Path(self.key_dir.name) / LAB_KID).write_bytes(self.hs_secret)

    @property
    def public_pem(self) -> bytes:
        return self.rsa_private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk_dict = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa_private.public_key()))
        return {**jwk_dict, "kid": LAB_KID, "use": "sig", "alg": "RS256"}


def vulnerable_lab_encode(header: dict[str, Any], claims: dict[str, Any], key: bytes | rsa.RSAPrivateKey) -> str:
    """Sign a token by hand, HS256 with bytes or RS256 with an RSA key (the weak secret is too short for PyJWT)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    if isinstance(key, bytes):
        signature = hmac.digest(key, signing_input, hashlib.sha256)
    else:
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{_b64(signature)}"


class VulnerableLab:
    """Issues and checks the tokens of every door."""

    def __init__(self, users: UserDirectory) -> None:
        self.users = users
        self.keys = VulnerableLabKeys()
        self.hardened = TokenService(secrets.token_bytes(32), lifetime=LAB_TOKEN_LIFETIME)

    def claims_for(self, user_id: int, audience: str = LAB_AUDIENCE) -> dict[str, Any]:
        issued_at = int(time.time())
        return {
            "sub": str(user_id),
            "iss": audience,
            "aud": audience,
            "iat": issued_at,
            "exp": issued_at + LAB_TOKEN_LIFETIME,
            "jti": secrets.token_urlsafe(16),
        }

    def issue(self, door: str, user_id: int, jwks_url: str) -> str:
        claims, keys = self.claims_for(user_id), self.keys
        if door == "hardened":
            return self.hardened.create_access_token(user_id, "user")
        if door in ("unverified", "audience"):
            return vulnerable_lab_encode({"alg": "HS256", "typ": "JWT"}, claims, keys.hs_secret)
        if door == "weak-secret":
            return vulnerable_lab_encode({"alg": "HS256", "typ": "JWT"}, claims, VULNERABLE_WEAK_SECRET)
        if door == "kid":
            return vulnerable_lab_encode({"alg": "HS256", "typ": "JWT", "kid": LAB_KID}, claims, keys.hs_secret)
        header = {"alg": "RS256", "typ": "JWT", "kid": LAB_KID}
        if door == "jku":
            header["jku"] = jwks_url
        return vulnerable_lab_encode(header, claims, keys.rsa_private)

    def issue_sister_token(self, email: str) -> str:
        return vulnerable_lab_encode({"alg": "HS256", "typ": "JWT"}, self.claims_for(SISTER_USER_IDS[email], SISTER_AUDIENCE), self.keys.hs_secret)

    def decode(self, door: str, token: str) -> dict[str, Any]:
        keys = self.keys
        if door == "hardened":
            return self.hardened.decode_token(token)
        if door == "unverified":
            return vulnerable_decode_without_verifying(token)
        if door == "alg":
            return vulnerable_decode_trusting_alg(token, keys.public_pem)
        if door == "weak-secret":
            return vulnerable_decode_with_weak_secret(token)
        if door == "kid":
            return vulnerable_decode_with_kid_path(token, keys.key_dir.name)
        if door == "jwk":
            return vulnerable_decode_trusting_jwk(token, keys.public_pem)
        if door == "jku":
            return vulnerable_decode_trusting_jku(token, keys.public_pem)
        return vulnerable_decode_ignoring_audience(token, keys.hs_secret)


def create_vulnerable_app(bcrypt_rounds: int = DEFAULT_ROUNDS) -> FastAPI:
    """The lab's FastAPI app: every door of VULNERABLE_DOORS plus `hardened`. Loopback only."""
    users = UserDirectory(bcrypt_rounds)
    lab = VulnerableLab(users)
    exploits: dict[str, bytes] = {}
    app = FastAPI(title="authcourse VULNERABLE JWT lab (never expose)", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.lab = lab
    add_error_handlers(app)

    def refuse(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def credentials(request: Request) -> tuple[str, str] | None:
        try:
            body = json.loads(await request.body())
            return (body["email"], body["password"]) if isinstance(body["email"], str) and isinstance(body["password"], str) else None
        except (ValueError, KeyError, TypeError):
            return None

    def principal(door: str, request: Request):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or len(token) > 8192:
            return None, refuse(401, "No token provided")
        try:
            claims = lab.decode(door, token.strip())
            user = users.get(int(claims["sub"]))
        except VulnerableFenceError as error:
            return None, refuse(400, str(error))
        except (VulnerableTokenError, jwt.InvalidTokenError) as error:
            message = "Invalid or expired token" if door == "hardened" else f"Invalid token: {error}"
            return None, refuse(401, message)
        except (KeyError, TypeError, ValueError, OverflowError):
            return None, refuse(401, "Invalid token: no usable sub")
        if user is None:
            return None, refuse(401, "Invalid token: unknown user")
        return user, None

    @app.get("/health")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "vulnerable": True})

    @app.get("/.well-known/jwks.json")
    def jwks() -> JSONResponse:
        return JSONResponse({"keys": [lab.keys.public_jwk]})

    @app.post("/reports/login")
    async def sister_login(request: Request) -> JSONResponse:
        pair = await credentials(request)
        user = users.authenticate(*pair) if pair else None
        if user is None:
            return refuse(401, "Invalid credentials")
        return JSONResponse({"token": lab.issue_sister_token(user.email)})

    @app.put("/exploit/{name}")
    async def upload(name: str, request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_EXPLOIT_BYTES:
            return refuse(413, f"at most {MAX_EXPLOIT_BYTES} bytes")
        if name not in exploits and len(exploits) >= MAX_EXPLOITS:
            return refuse(429, f"the exploit server keeps at most {MAX_EXPLOITS} files")
        exploits[name] = body
        return JSONResponse({"url": f"{str(request.base_url).rstrip('/')}/exploit/{name}"})

    @app.get("/exploit/{name}")
    def download(name: str) -> Response:
        if name not in exploits:
            return refuse(404, "Not found")
        return Response(exploits[name], media_type="application/json")

    @app.post("/{door}/login")
    async def login(door: str, request: Request) -> JSONResponse:
        if door not in LAB_DOORS:
            return refuse(404, f"no door {door!r}; doors: {', '.join(LAB_DOORS)}")
        pair = await credentials(request)
        user = users.authenticate(*pair) if pair else None
        if user is None:
            return refuse(401, "Invalid credentials")
        return JSONResponse({"token": lab.issue(door, user.id, f"{str(request.base_url).rstrip('/')}/.well-known/jwks.json")})

    # Sync routes: FastAPI runs them in a thread, so a `jku` fetch from this very server can be answered.
    @app.get("/{door}/api/profile")
    def profile(door: str, request: Request) -> Response:
        if door not in LAB_DOORS:
            return refuse(404, f"no door {door!r}")
        user, refusal = principal(door, request)
        return refusal or Response(user.profile_json, media_type="application/json")

    @app.get("/{door}/api/admin")
    def admin(door: str, request: Request) -> JSONResponse:
        if door not in LAB_DOORS:
            return refuse(404, f"no door {door!r}")
        user, refusal = principal(door, request)
        if refusal is not None:
            return refusal
        if user.role != "admin":
            return refuse(403, "Forbidden")
        return respond({"message": f"Welcome, {user.name}", "user": user.public()})

    return app


class VulnerableLabServer(CourseServer):
    """The vulnerable JWT lab in a background thread, like a CourseServer; loopback only."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, bcrypt_rounds: int = DEFAULT_ROUNDS) -> None:
        vulnerable_require_loopback(host)
        super().__init__("token", host=host, port=port, bcrypt_rounds=bcrypt_rounds)

    def build_app(self) -> FastAPI:
        return create_vulnerable_app(self.settings.bcrypt_rounds)

    def stop(self) -> None:
        if self.app is not None:
            self.app.state.lab.keys.key_dir.cleanup()  # the lab's key file
        super().stop()

    @property
    def lab(self) -> VulnerableLab:
        if self.app is None:
            raise RuntimeError("the server is not running: call start() first")
        return self.app.state.lab

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "stopped"
        return f"<VulnerableLabServer DELIBERATELY VULNERABLE {where}>"
