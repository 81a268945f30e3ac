"""DELIBERATELY VULNERABLE TARGETS FOR THE ATTACK LABS, FOR TEACHING ONLY, ON LOOPBACK ONLY.

########################################################################################
#  The JWT attack labs (solutions/11-Lab-*.ipynb): the learner writes the attack, the  #
#  target says whether it worked. Nothing here forges a token: the target only        #
#  watches what its own doors answered and says why a refused token was refused.      #
#  Nothing else in the package imports this.                                          #
########################################################################################

"Solved" is a fact the TARGET records, never something the learner's cell reports: the lab server
(`VulnerableLabTargetServer`, the chapter 11 server of jwtlab.py with a recorder around it) notes
every token its logins issued and every answer of its admin pages. A lab is solved when the lab's
door served bob's admin page (200) to a token of the kind the lab asks for, which the server did
not issue itself (logging in as bob is not the attack), or, for `jwt-audience`, which its sister
service issued.

Any grader asks it over HTTP, the only channel that counts:

    GET /labs                 {"labs": {lab id: solved?}}
    GET /labs/{lab id}        {"lab", "door", "solved", "attempts", "why", "hardened"}

`why` says, in the learner's terms, why the last refused attempt at the lab's door was refused;
`hardened` lists the answers the hardened door gave (the replay of the solution after the lab).

To grade from outside the learner's kernel, start `VulnerableLabTargetServer` in the grader's own
process and put its URL into the kernel's environment as `AUTHCOURSE_LAB_URL`: `vulnerable_lab_target`
(what the notebooks call) then attacks that server instead of starting one, and the grader reads
the verdict with `vulnerable_lab_verdict(url, lab_id)`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ..passwords import DEFAULT_ROUNDS
from .doors import vulnerable_is_loopback_url
from .jwtlab import LAB_DOORS, VulnerableLabServer, create_vulnerable_app

LAB_URL_VARIABLE = "AUTHCOURSE_LAB_URL"  # set by a grader that runs the target outside the kernel
MAX_ISSUED = 10_000  # tokens the recorder remembers
MAX_ATTEMPTS = 200  # answers of the admin pages it remembers
ADMIN_PATH = re.compile(r"^/([a-z-]+)/api/admin$")
LOGIN_PATH = re.compile(r"^/([a-z-]+)/login$")
SISTER = "reports"  # the origin the recorder gives to the sister service's tokens
HARDENED_ANSWER = {"error": "Invalid or expired token"}


@dataclass(frozen=True)
class VulnerableJwtLab:
    """One lab: its goal, the door it attacks, and the rule that stops the attack."""

    id: str
    door: str
    title: str
    goal: str
    difficulty: str  # apprentice, practitioner or expert
    minutes: int
    rule: str
    wants: Callable[[dict[str, Any], str | None], bool]  # (the token's header, who issued it) -> the lab's attack?


def _alg(header: dict[str, Any]) -> str:
    return str(header.get("alg", "")).lower()


VULNERABLE_JWT_LABS: dict[str, VulnerableJwtLab] = {
    lab.id: lab
    for lab in (
        VulnerableJwtLab(
            "jwt-unverified",
            "unverified",
            "Forge a token for a door that never checks the signature",
            "Open bob's admin page at the `unverified` door with a token you made yourself.",
            "apprentice",
            10,
            "RFC 8725 section 3.3 (verify every signature; no decode without verification), "
            "ASVS 5.0 V9.1.1 (self-contained tokens are validated by their signature before use)",
            lambda header, issuer: issuer is None,
        ),
        VulnerableJwtLab(
            "jwt-alg-none",
            "alg",
            "An unsigned token (alg: none)",
            "Open bob's admin page at the `alg` door with an unsigned token (`alg: none`).",
            "apprentice",
            10,
            "RFC 8725 sections 2.1 and 3.1 (the verifier chooses the algorithm and never accepts none), "
            "ASVS 5.0 V9.1.2 (only an allowlist of algorithms; none is not on it)",
            lambda header, issuer: issuer is None and _alg(header) == "none",
        ),
        VulnerableJwtLab(
            "jwt-weak-secret",
            "weak-secret",
            "Crack the weak HMAC secret and sign your own admin token",
            "Find the `weak-secret` door's HMAC key in the word list, then open bob's admin page with a token "
            "you signed with it.",
            "practitioner",
            20,
            "RFC 8725 sections 2.2 and 3.5 (HMAC keys of at least the hash's size, from a real random source), "
            "ASVS 5.0 V11.2.3 (at least 128 bits of security; no guessable keys)",
            lambda header, issuer: issuer is None,
        ),
        VulnerableJwtLab(
            "jwt-kid",
            "kid",
            "A key file the token chooses (kid path traversal)",
            "The `kid` door reads its HMAC key from the file the header's `kid` names. Make it read a file "
            "whose content you know, and open bob's admin page.",
            "practitioner",
            20,
            "RFC 8725 section 3.10 (header parameters such as kid are untrusted input: sanitize them, "
            "or look keys up by name in a fixed table), ASVS 5.0 V9.1.3 (keys only from trusted, preconfigured "
            "sources)",
            lambda header, issuer: issuer is None,
        ),
        VulnerableJwtLab(
            "jwt-jwk",
            "jwk",
            "An embedded jwk",
            "The `jwk` door trusts a public key put in the token's header. Sign with a key of your own and "
            "open bob's admin page.",
            "practitioner",
            20,
            "RFC 8725 section 3.10 and RFC 7515 section 4.1.3 (a key in the token proves nothing: "
            "verify with keys you configured), ASVS 5.0 V9.1.3 (keys only from trusted, preconfigured sources)",
            lambda header, issuer: issuer is None and isinstance(header.get("jwk"), dict),
        ),
        VulnerableJwtLab(
            "jwt-jku",
            "jku",
            "A jku key set served from the lab's upload route",
            "The `jku` door fetches its key set from the URL in the token's header. Serve your own key set "
            "from the lab's upload route (`PUT /exploit/<name>`) and open bob's admin page.",
            "practitioner",
            30,
            "RFC 8725 section 3.10 and RFC 7515 section 4.1.2 (only allowlisted key URLs, never the token's "
            "own jku), ASVS 5.0 V9.1.3 (keys only from trusted, preconfigured sources)",
            lambda header, issuer: issuer is None and "/exploit/" in str(header.get("jku", "")),
        ),
        VulnerableJwtLab(
            "jwt-key-confusion",
            "alg",
            "RS256 to HS256 key confusion",
            "The `alg` door signs with RS256 and publishes its public key. Make it check an HS256 signature "
            "with that public key as the HMAC secret, and open bob's admin page.",
            "expert",
            30,
            "RFC 8725 sections 2.1 and 3.1 (one algorithm per key, chosen by the verifier), ASVS 5.0 V9.1.2 "
            "(an allowlist of algorithms, never both symmetric and asymmetric for one key)",
            lambda header, issuer: issuer is None and _alg(header) == "hs256",
        ),
        VulnerableJwtLab(
            "jwt-audience",
            "audience",
            "A token from the sister service",
            "The `reports` service (`POST /reports/login`) is a sister service of this one. With nothing but "
            "alice's account, open bob's admin page at the `audience` door.",
            "practitioner",
            15,
            "RFC 8725 sections 2.8, 3.8 and 3.9 (check iss and aud; one key per service), ASVS 5.0 V9.2.3 "
            "(a token is accepted only by the audience it names)",
            lambda header, issuer: issuer == SISTER,
        ),
    )
}


def _b64json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def vulnerable_token_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a token, unchecked, or empty dicts where they do not read."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}, {}
    return _b64json(parts[0]), _b64json(parts[1])


def vulnerable_lab_why(lab: VulnerableJwtLab, token: str, status: int, error: str, issuer: str | None) -> str:
    """Why an attempt at the lab's door did not solve it, in the learner's terms."""
    header, claims = vulnerable_token_parts(token)
    if status == 200:
        if issuer is not None and lab.id != "jwt-audience":
            return (
                f"that token was issued by the lab's own `{issuer}` login for bob: logging in as bob is not "
                "the attack; forge a token the server never issued"
            )
        if lab.id == "jwt-audience":
            return (
                f"that token comes from the lab's own `{issuer or 'nobody'}`, not from the sister service: "
                "log in as alice at /reports/login and use that token"
            )
        if lab.id == "jwt-alg-none":
            return (
                f"the door let in a token with alg {header.get('alg')!r}: that is another lab; this one wants alg none"
            )
        if lab.id == "jwt-key-confusion":
            return f"the door let in a token with alg {header.get('alg')!r}: that is another lab; this one wants HS256"
        if lab.id == "jwt-jku":
            return "the token's jku must point at your key set on the lab's upload route (PUT /exploit/<name>)"
        return "the door let the token in, but not by this lab's attack: reread the goal"
    if status == 403:
        if lab.id == "jwt-audience" and issuer == SISTER:
            return (
                f"the sister service's token names user {claims.get('sub')!r}, a plain user here: the sister "
                'service numbers its users its own way; whose token there says sub "2"?'
            )
        if lab.id == "jwt-audience":
            return (
                "the door accepted the token, but it names alice (user 1 here): the goal is a token from "
                "the sister service (POST /reports/login)"
            )
        return (
            f"the door accepted the token, but it names user {claims.get('sub')!r}, a plain user: bob, "
            'the admin, is user 2 (`"sub": "2"`, a string)'
        )
    if error == "No token provided":
        return "no token arrived: send it as the header `Authorization: Bearer <token>` (one space)"
    if "bad base64url" in error:
        return (
            "a part is not base64url: use `base64.urlsafe_b64encode(...)` (- and _ instead of + and /) and "
            "strip the = padding"
        )
    if "three parts" in error:
        return (
            "a JWT is three base64url parts joined by dots, header.claims.signature; even an empty signature "
            "keeps its dot (`header.claims.`)"
        )
    if "not JSON" in error or "JSON objects" in error:
        return "the header and the claims must each be a JSON object, base64url-encoded"
    if error.endswith("expired"):
        return "the token's exp is in the past: set exp to a time in the future (`int(time.time()) + 3600`)"
    if "no usable sub" in error:
        return 'sub must be the user\'s id as a string: bob is `"sub": "2"` (not his name, not his email)'
    if "unknown user" in error:
        return f'there is no user {claims.get("sub")!r}: alice is "1", bob is "2"'
    if "unsupported alg" in error:
        return (
            f"the door knows the algorithms none, HS256 and RS256, not {header.get('alg')!r}: "
            "spell alg as the JWA names it (RFC 7518: `none`, `HS256`)"
        )
    if error.endswith("HS256 only") or "HS256 with a kid only" in error:
        needs = 'alg "HS256" (exactly) and a string kid' if lab.door == "kid" else 'alg "HS256", spelled exactly'
        return f"this door takes {needs}; the token's header was {json.dumps(header)}"
    if error.endswith("RS256 only"):
        return f'this door takes alg "RS256" only (sign with an RSA key); the token\'s alg was {header.get("alg")!r}'
    if "bad HMAC signature" in error:
        return {
            "jwt-alg-none": "alg HS256 makes the door check an HMAC you cannot make: set alg to none",
            "jwt-key-confusion": (
                "the HMAC key is not what the door uses: it is the public key's PEM bytes exactly "
                "as the door holds them (SubjectPublicKeyInfo, `-----BEGIN PUBLIC KEY-----`, the "
                "final newline included), not the JWK's n, not PKCS#1 (`BEGIN RSA PUBLIC KEY`)"
            ),
            "jwt-weak-secret": (
                "signed with the wrong secret: crack it first (try every candidate against the "
                "signature of alice's token), and sign with the bytes exactly, no newline"
            ),
            "jwt-kid": (
                "the HMAC key is the content of the file kid names: a file you know the content of, "
                'such as /dev/null, whose content is empty (sign with b"")'
            ),
        }.get(lab.id, "you cannot make this door's HMAC: the signature must come from somewhere the door trusts")
    if "bad RSA signature" in error:
        return {
            "jwt-alg-none": "alg RS256 needs the lab's private key, which you do not have: set alg to none",
            "jwt-key-confusion": "alg RS256 needs the lab's private key: switch alg to HS256",
            "jwt-jwk": "sign with the private key whose public half is in the header's jwk (the same key pair)",
            "jwt-jku": (
                "the key set at jku must hold the public half of the key you signed with (and the same kid "
                "as the header)"
            ),
        }.get(lab.id, "an RS256 signature needs the lab's private key, which you do not have")
    if "no such key" in error:
        return (
            "kid names a file the server could not read (relative to its key folder): name a file that exists "
            "and whose content you know, reached with ../ or an absolute path"
        )
    if "unreadable jwk" in error or "not an RSA public key" in error:
        return "the header's jwk must be an RSA public key as a JWK: kty, n and e only (a jwk with d is a private key)"
    if "only from loopback" in error:
        return "the lab fetches jku from the lab itself only: upload your key set with PUT /exploit/<name> on the lab"
    if "could not fetch a key set" in error:
        return 'jku must serve JSON of the form {"keys": [<your public JWK>]} (upload that, not the bare JWK)'
    if "no matching key" in error:
        return "the header's kid must equal the kid of a key in your key set (or leave kid out of the header)"
    return f"the door answered {status} {error!r}"


class VulnerableLabRecorder:
    """What the target saw: the tokens it issued, the answers of its admin pages, the labs they solved."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: dict[str, str] = {}  # token -> the door (or `reports`) that issued it
        self.attempts: deque[dict[str, Any]] = deque(maxlen=MAX_ATTEMPTS)
        self.solved: set[str] = set()

    def issue(self, token: str, origin: str) -> None:
        with self.lock:
            if len(self.issued) < MAX_ISSUED:
                self.issued[token] = origin

    def attempt(self, door: str, token: str, status: int, error: str) -> None:
        header, _ = vulnerable_token_parts(token)
        with self.lock:
            issuer = self.issued.get(token)
            self.attempts.append({"door": door, "token": token, "status": status, "error": error, "issuer": issuer})
            if status == 200:
                self.solved |= {
                    lab.id for lab in VULNERABLE_JWT_LABS.values() if lab.door == door and lab.wants(header, issuer)
                }

    def status(self, lab: VulnerableJwtLab) -> dict[str, Any]:
        with self.lock:
            mine = [a for a in self.attempts if a["door"] == lab.door]
            hardened = [{"status": a["status"], "answer": a["error"]} for a in self.attempts if a["door"] == "hardened"]
            solved = lab.id in self.solved
        why = None
        if not solved:
            if mine:
                last = mine[-1]
                why = vulnerable_lab_why(lab, last["token"], last["status"], last["error"], last["issuer"])
            else:
                why = f"no request reached the goal yet: GET /{lab.door}/api/admin with your token"
        return {
            "lab": lab.id,
            "door": lab.door,
            "solved": solved,
            "attempts": len(mine),
            "why": why,
            "hardened": hardened,
        }


class VulnerableLabRecorderMiddleware:
    """ASGI middleware that tells the recorder what the logins issued and what the admin pages answered."""

    def __init__(self, app: Any, recorder: VulnerableLabRecorder) -> None:
        self.app, self.recorder = app, recorder

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        admin, login = ADMIN_PATH.match(path), LOGIN_PATH.match(path)
        if not ((method == "GET" and admin and admin.group(1) in LAB_DOORS) or (method == "POST" and login)):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        seen: dict[str, Any] = {"status": 0, "body": b""}

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body" and len(seen["body"]) < 65536:
                seen["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, receive, watch)
        try:
            body = json.loads(seen["body"])
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if login and seen["status"] == 200 and isinstance(body.get("token"), str):
            self.recorder.issue(body["token"], login.group(1))
        elif admin:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            token = token.strip() if scheme.lower() == "bearer" else ""
            self.recorder.attempt(admin.group(1), token, seen["status"], str(body.get("error", "")))


def create_vulnerable_lab_target_app(bcrypt_rounds: int = DEFAULT_ROUNDS) -> FastAPI:
    """The chapter 11 lab app with the recorder around it and the labs' status routes. Loopback only."""
    app = create_vulnerable_app(bcrypt_rounds)
    recorder = VulnerableLabRecorder()
    app.state.recorder = recorder

    def labs() -> JSONResponse:
        return JSONResponse({"labs": {lab_id: lab_id in recorder.solved for lab_id in VULNERABLE_JWT_LABS}})

    def lab_status(lab_id: str) -> JSONResponse:
        lab = VULNERABLE_JWT_LABS.get(lab_id)
        if lab is None:
            return JSONResponse(
                {"error": f"no lab {lab_id!r}; labs: {', '.join(VULNERABLE_JWT_LABS)}"}, status_code=404
            )
        return JSONResponse(recorder.status(lab))

    app.add_api_route("/labs", labs, methods=["GET"])
    app.add_api_route("/labs/{lab_id}", lab_status, methods=["GET"])
    app.add_middleware(VulnerableLabRecorderMiddleware, recorder=recorder)
    return app


class VulnerableLabTargetServer(VulnerableLabServer):
    """The labs' target: the vulnerable JWT lab that records what it served. Loopback only."""

    def build_app(self) -> FastAPI:
        return create_vulnerable_lab_target_app(self.settings.bcrypt_rounds)


def vulnerable_lab_verdict(url: str, lab_id: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """Ask a lab target over HTTP whether `lab_id` is solved: what a grader calls. Loopback URLs only."""
    if not vulnerable_is_loopback_url(url):
        raise ValueError(f"the lab targets listen on loopback only, not {url!r}")
    response = httpx.get(f"{url.rstrip('/')}/labs/{lab_id}", timeout=timeout)
    response.raise_for_status()
    return response.json()


class VulnerableLabSession:
    """A lab in a notebook: the target's URLs, the check, the hardened replay. Starts the target unless
    `AUTHCOURSE_LAB_URL` names one a grader runs."""

    def __init__(self, lab_id: str, *, bcrypt_rounds: int = DEFAULT_ROUNDS) -> None:
        if lab_id not in VULNERABLE_JWT_LABS:
            raise ValueError(f"no lab {lab_id!r}; labs: {', '.join(VULNERABLE_JWT_LABS)}")
        self.lab = VULNERABLE_JWT_LABS[lab_id]
        self.server: VulnerableLabTargetServer | None = None
        outside = os.environ.get(LAB_URL_VARIABLE)
        if outside:
            if not vulnerable_is_loopback_url(outside):
                raise ValueError(f"{LAB_URL_VARIABLE} must be a loopback URL, not {outside!r}")
            self.url = outside.rstrip("/")
        else:
            self.server = VulnerableLabTargetServer(bcrypt_rounds=bcrypt_rounds).start()
            self.url = self.server.url

    @property
    def door(self) -> str:
        """The base URL of the lab's door: POST {door}/login, GET {door}/api/admin."""
        return f"{self.url}/{self.lab.door}"

    @property
    def hardened(self) -> str:
        """The base URL of the hardened door of the same server (the package's TokenService)."""
        return f"{self.url}/hardened"

    def status(self) -> dict[str, Any]:
        return vulnerable_lab_verdict(self.url, self.lab.id)

    def check(self) -> bool:
        """Ask the target whether the lab is solved; print its answer. True when solved."""
        status = self.status()
        if status["solved"]:
            print(f"Solved: the `{self.lab.door}` door served bob's admin page to your token ({self.lab.title}).")
        else:
            print(f"Not solved yet: {status['why']}.")
        return bool(status["solved"])

    def replay(self, attack: Callable[[str], str]) -> None:
        """Run `attack` against the hardened door of the same server; print its answer and the rule.

        The target records the hardened door's answer too (`status()["hardened"]`)."""
        try:
            token = attack(self.hardened)
        except Exception as error:  # the attack itself gives up, e.g. a secret that is in no word list
            print(f"The attack stopped before reaching the hardened door: {type(error).__name__}: {error}")
            print(f"The rule that stops it: {self.lab.rule}.")
            return
        response = httpx.get(f"{self.hardened}/api/admin", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        print(f"The hardened door answered {response.status_code} {response.text}")
        print(f"The rule that stops it: {self.lab.rule}.")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def __repr__(self) -> str:
        return f"<VulnerableLabSession {self.lab.id} DELIBERATELY VULNERABLE>"


def vulnerable_lab_target(lab_id: str, *, bcrypt_rounds: int = DEFAULT_ROUNDS) -> VulnerableLabSession:
    """Start (or, under a grader, join) the target of lab `lab_id`."""
    return VulnerableLabSession(lab_id, bcrypt_rounds=bcrypt_rounds)
