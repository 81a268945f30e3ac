"""The attack labs (issue 17): the target decides "solved", the blank lab is not solved, the wrong
attempts learners make are not solved and the target says why, every solution opens its door and is
refused by the hardened door and by the course's own server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import nbformat
import pytest
from authcourse.vulnerable.labs import (
    LAB_URL_VARIABLE,
    VULNERABLE_JWT_LABS,
    VulnerableLabTargetServer,
    vulnerable_lab_target,
    vulnerable_lab_verdict,
)
from conftest import ALICE, BOB
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {
    nbformat.read(path, as_version=4).metadata["authcourse"]["lab"]: path.name
    for path in sorted((ROOT / "solutions").glob("11-Lab-*.ipynb"))
}
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # an attacker's key, made once


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def part(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def claims(sub: str = "2", exp_in: int = 600) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "iat": now, "exp": now + exp_in}


def hs256(header: dict[str, Any], body: dict[str, Any], key: bytes) -> str:
    signing_input = f"{part(header)}.{part(body)}"
    return f"{signing_input}.{b64url(hmac.digest(key, signing_input.encode(), hashlib.sha256))}"


def unsigned(header: dict[str, Any], body: dict[str, Any]) -> str:
    return f"{part(header)}.{part(body)}."


def run_notebook(folder: str, lab_id: str) -> tuple[dict[str, Any], BaseException | None]:
    """Execute a lab notebook's code cells but the last (`lab.stop()`) in one namespace; stop at the first error."""
    notebook = nbformat.read(ROOT / folder / NOTEBOOKS[lab_id], as_version=4)
    namespace: dict[str, Any] = {}
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert cells[-1].source == "lab.stop()"
    for cell in cells[:-1]:
        try:
            exec(compile(cell.source, f"{folder}/{NOTEBOOKS[lab_id]}", "exec"), namespace)
        except Exception as error:  # the blank lab's NotImplementedError
            return namespace, error
    return namespace, None


@pytest.fixture(autouse=True)
def no_outside_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LAB_URL_VARIABLE, raising=False)


@pytest.fixture(scope="module")
def targets():
    """One target per lab for its wrong attempts (each is judged on the last attempt at its door; a wrong
    attempt at one lab may solve another, as the key-confusion token sent to the alg-none lab does)."""
    started: dict[str, VulnerableLabTargetServer] = {}
    yield (
        lambda lab_id: (
            started.get(lab_id) or started.setdefault(lab_id, VulnerableLabTargetServer(bcrypt_rounds=4).start())
        )
    )
    for server in started.values():
        server.stop()


def login(url: str, who: tuple[str, str] = ALICE) -> str:
    response = httpx.post(url, json={"email": who[0], "password": who[1]}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def admin(url: str, token: str, scheme: str = "Bearer ") -> httpx.Response:
    return httpx.get(f"{url}/api/admin", headers={"Authorization": f"{scheme}{token}"}, timeout=10)


def test_every_lab_has_a_solution_and_an_exercise_notebook() -> None:
    assert set(NOTEBOOKS) == set(VULNERABLE_JWT_LABS)
    for name in NOTEBOOKS.values():
        exercise = nbformat.read(ROOT / "exercises" / name, as_version=4)
        assert "BEGIN SOLUTION" not in json.dumps(exercise) and "raise NotImplementedError()" in json.dumps(exercise)
    assert {lab.difficulty for lab in VULNERABLE_JWT_LABS.values()} <= {"apprentice", "practitioner", "expert"}


@pytest.mark.parametrize("lab_id", list(VULNERABLE_JWT_LABS))
def test_the_blank_lab_is_not_solved(lab_id: str) -> None:
    namespace, error = run_notebook("exercises", lab_id)
    lab = namespace["lab"]
    try:
        assert isinstance(error, NotImplementedError), error
        verdict = vulnerable_lab_verdict(lab.url, lab_id)
        assert verdict["solved"] is False and verdict["attempts"] == 0
        assert "no request reached the goal yet" in verdict["why"]
    finally:
        lab.stop()


@pytest.mark.parametrize("lab_id", list(VULNERABLE_JWT_LABS))
def test_every_solution_solves_its_lab_only_and_the_hardened_door_and_the_course_server_refuse_it(
    shared_server, lab_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace, error = run_notebook("solutions", lab_id)
    lab = namespace["lab"]
    try:
        assert error is None, error
        verdict = vulnerable_lab_verdict(lab.url, lab_id)
        assert verdict["solved"] is True and verdict["why"] is None
        solved = {name for name, done in httpx.get(f"{lab.url}/labs", timeout=10).json()["labs"].items() if done}
        assert solved == {lab_id}, "one attack solves one lab"
        out = capsys.readouterr().out
        assert "Solved:" in out and VULNERABLE_JWT_LABS[lab_id].rule in out
        if lab_id == "jwt-weak-secret":  # the hardened key is in no word list: the attack gives up
            assert "LookupError" in out and verdict["hardened"] == []
        else:
            assert verdict["hardened"] == [{"status": 401, "answer": "Invalid or expired token"}]
            assert 'The hardened door answered 401 {"error":"Invalid or expired token"}' in out
        server = shared_server("token")
        try:
            token = namespace["attack"](server.url)  # its /login and /api/admin are where a door has them
        except LookupError:  # the course server's key is in no word list either
            assert lab_id == "jwt-weak-secret"
        else:
            response = admin(server.url, token)
            assert response.status_code == 401 and response.json() == {"error": "Invalid or expired token"}
    finally:
        lab.stop()


# Wrong attempts learners make: not solved, and the target's `why` names the mistake ---------------------


def pem() -> bytes:
    return PRIVATE.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def lab_public_key(target: VulnerableLabTargetServer) -> rsa.RSAPublicKey:
    jwks = httpx.get(f"{target.url}/.well-known/jwks.json", timeout=10).json()
    return jwt.algorithms.RSAAlgorithm.from_jwk(jwks["keys"][0])


def swapped_sub(token: str, sub: Any) -> str:
    header, body, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return f"{header}.{part({**data, 'sub': sub})}.{signature}"


def public_jwk(key: rsa.RSAPrivateKey, **extra: Any) -> dict[str, Any]:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), **extra}


def upload(target, name: str, body: Any) -> str:
    return httpx.put(f"{target.url}/exploit/{name}", content=json.dumps(body), timeout=10).json()["url"]


Attempt = Callable[[Any], str]  # the target server -> the token the learner sends

WRONG: list[tuple[str, str, Attempt, str]] = [
    # lab, the mistake, the token, words the target's `why` must say
    (
        "jwt-unverified",
        "alice's own token, unchanged",
        lambda t: login(f"{t.url}/unverified/login"),
        "bob, the admin, is user 2",
    ),
    (
        "jwt-unverified",
        "sub set to bob's email",
        lambda t: swapped_sub(login(f"{t.url}/unverified/login"), "bob@example.com"),
        "sub must be the user's id as a string",
    ),
    (
        "jwt-unverified",
        "logging in as bob",
        lambda t: login(f"{t.url}/unverified/login", BOB),
        "logging in as bob is not the attack",
    ),
    (
        "jwt-unverified",
        "an integer sub of alice",
        lambda t: swapped_sub(login(f"{t.url}/unverified/login"), 1),
        "is user 2",
    ),
    (
        "jwt-alg-none",
        'alg spelled "null"',
        lambda t: unsigned({"alg": "null", "typ": "JWT"}, claims()),
        "spell alg as the JWA names it",
    ),
    ("jwt-alg-none", "alg nil", lambda t: unsigned({"alg": "nil"}, claims()), "spell alg as the JWA names it"),
    ("jwt-alg-none", "the trailing dot dropped", lambda t: unsigned({"alg": "none"}, claims())[:-1], "keeps its dot"),
    (
        "jwt-alg-none",
        "HS256 with a guessed key",
        lambda t: hs256({"alg": "HS256"}, claims(), b"secret"),
        "set alg to none",
    ),
    (
        "jwt-alg-none",
        "the key-confusion attack instead",
        lambda t: hs256(
            {"alg": "HS256"},
            claims(),
            lab_public_key(t).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        ),
        "this one wants alg none",
    ),
    (
        "jwt-weak-secret",
        "the word list's line with its newline",
        lambda t: hs256({"alg": "HS256"}, claims(), b"dragon42\n"),
        "no newline",
    ),
    (
        "jwt-weak-secret",
        "alg spelled hs256",
        lambda t: hs256({"alg": "hs256"}, claims(), b"dragon42"),
        "spelled exactly",
    ),
    (
        "jwt-weak-secret",
        "an exp in the past",
        lambda t: hs256({"alg": "HS256"}, claims(exp_in=-60), b"dragon42"),
        "exp is in the past",
    ),
    (
        "jwt-kid",
        "the key file's name, not its content",
        lambda t: hs256({"alg": "HS256", "kid": "../../../../../../dev/null"}, claims(), b"/dev/null"),
        "whose content is empty",
    ),
    (
        "jwt-kid",
        "a kid that names no file",
        lambda t: hs256({"alg": "HS256", "kid": "../../../../../../no-such-file"}, claims(), b""),
        "could not read",
    ),
    ("jwt-kid", "no kid at all", lambda t: hs256({"alg": "HS256"}, claims(), b""), "a string kid"),
    (
        "jwt-jwk",
        "the private key embedded",
        lambda t: jwt.encode(
            claims(),
            PRIVATE,
            algorithm="RS256",
            headers={"jwk": json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE))},
        ),
        "a jwk with d is a private key",
    ),
    (
        "jwt-jwk",
        "one key embedded, another signing",
        lambda t: jwt.encode(
            claims(),
            PRIVATE,
            algorithm="RS256",
            headers={"jwk": public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048))},
        ),
        "the same key pair",
    ),
    (
        "jwt-jwk",
        "HS256 with a jwk",
        lambda t: hs256({"alg": "HS256", "jwk": public_jwk(PRIVATE)}, claims(), b"x" * 32),
        'RS256" only',
    ),
    (
        "jwt-jku",
        "jku on the attacker's own site",
        lambda t: jwt.encode(
            claims(), PRIVATE, algorithm="RS256", headers={"jku": "https://attacker.example/keys.json"}
        ),
        "PUT /exploit/<name>",
    ),
    (
        "jwt-jku",
        "the bare JWK uploaded, not a key set",
        lambda t: jwt.encode(
            claims(), PRIVATE, algorithm="RS256", headers={"jku": upload(t, "bare", public_jwk(PRIVATE))}
        ),
        '{"keys": [<your public JWK>]}',
    ),
    (
        "jwt-jku",
        "the header's kid not in the set",
        lambda t: jwt.encode(
            claims(),
            PRIVATE,
            algorithm="RS256",
            headers={"kid": "lab-key-1", "jku": upload(t, "set", {"keys": [public_jwk(PRIVATE, kid="mine")]})},
        ),
        "kid must equal",
    ),
    (
        "jwt-jku",
        "the lab's own key set, my signature",
        lambda t: jwt.encode(claims(), PRIVATE, algorithm="RS256", headers={"jku": f"{t.url}/.well-known/jwks.json"}),
        "public half of the key you signed with",
    ),
    (
        "jwt-key-confusion",
        "the PKCS#1 PEM as the HMAC key",
        lambda t: hs256(
            {"alg": "HS256"},
            claims(),
            lab_public_key(t).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        ),
        "SubjectPublicKeyInfo",
    ),
    (
        "jwt-key-confusion",
        "the PEM without its final newline",
        lambda t: hs256(
            {"alg": "HS256"},
            claims(),
            lab_public_key(t)
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .strip(),
        ),
        "final newline included",
    ),
    (
        "jwt-key-confusion",
        "alg spelled HS-256",
        lambda t: hs256({"alg": "HS-256"}, claims(), pem()),
        "spell alg as the JWA names it",
    ),
    ("jwt-key-confusion", "alg none instead", lambda t: unsigned({"alg": "none"}, claims()), "this one wants HS256"),
    (
        "jwt-audience",
        "alice's token from this service",
        lambda t: login(f"{t.url}/audience/login"),
        "goal is a token from the sister",
    ),
    (
        "jwt-audience",
        "bob's token from the sister service",
        lambda t: login(f"{t.url}/reports/login", BOB),
        "numbers its users its own way",
    ),
    (
        "jwt-audience",
        "bob's token from a door with the same secret",
        lambda t: login(f"{t.url}/unverified/login", BOB),
        "not from the sister service",
    ),
]


@pytest.mark.parametrize(("lab_id", "mistake", "attempt", "words"), WRONG, ids=[f"{w[0]}: {w[1]}" for w in WRONG])
def test_a_wrong_attempt_is_not_solved_and_the_target_says_why(targets, lab_id, mistake, attempt, words) -> None:
    target = targets(lab_id)
    door = f"{target.url}/{VULNERABLE_JWT_LABS[lab_id].door}"
    before = vulnerable_lab_verdict(target.url, lab_id)["attempts"]
    response = admin(door, attempt(target))
    assert 200 <= response.status_code < 500, response.text
    verdict = vulnerable_lab_verdict(target.url, lab_id)
    assert verdict["solved"] is False and verdict["attempts"] == before + 1, verdict
    assert words in verdict["why"], verdict["why"]


def test_every_lab_has_at_least_three_wrong_attempts() -> None:
    for lab_id in VULNERABLE_JWT_LABS:
        assert sum(1 for wrong in WRONG if wrong[0] == lab_id) >= 3, lab_id


def test_a_token_sent_without_bearer_is_named() -> None:
    with VulnerableLabTargetServer(bcrypt_rounds=4) as target:
        admin(f"{target.url}/unverified", unsigned({"alg": "none"}, claims()), scheme="")
        assert "Authorization: Bearer" in vulnerable_lab_verdict(target.url, "jwt-unverified")["why"]


# The target: its own answers, the grader's way in, the fence ------------------------------------------------


def test_the_target_answers_4xx_with_an_error_to_garbage() -> None:
    with VulnerableLabTargetServer(bcrypt_rounds=4) as target:
        garbage(target)


def garbage(target: VulnerableLabTargetServer) -> None:
    assert httpx.get(f"{target.url}/labs/nope", timeout=10).status_code == 404
    for token in ("x.y.z", "e30." * 3000, "-", "a.b", "\u00e9"):
        for door in ("unverified", "alg", "kid", "jku", "hardened", "nope"):
            response = httpx.get(
                f"{target.url}/{door}/api/admin", headers={"Authorization": f"Bearer {token}".encode()}, timeout=10
            )
            assert 400 <= response.status_code < 500 and "error" in response.json(), (door, token, response.text)
    for lab_id in VULNERABLE_JWT_LABS:
        assert vulnerable_lab_verdict(target.url, lab_id)["solved"] is False


def test_a_grader_runs_the_target_outside_the_kernel_and_reads_the_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    with VulnerableLabTargetServer(bcrypt_rounds=4) as outside:
        monkeypatch.setenv(LAB_URL_VARIABLE, outside.url)
        namespace, error = run_notebook("solutions", "jwt-kid")
        assert error is None and namespace["lab"].server is None, "the notebook joined the grader's target"
        assert vulnerable_lab_verdict(outside.url, "jwt-kid")["solved"] is True


def test_the_lab_urls_are_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LAB_URL_VARIABLE, "http://192.168.1.10:8000")
    with pytest.raises(ValueError, match="loopback"):
        vulnerable_lab_target("jwt-kid")
    with pytest.raises(ValueError, match="loopback"):
        vulnerable_lab_verdict("http://example.com", "jwt-kid")
    with pytest.raises(ValueError, match="no lab"):
        vulnerable_lab_target("jwt-nope")
