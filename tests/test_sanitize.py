"""Tests for notebooks/sanitize.cfg: each rule hides one kind of random value, and only that.

The samples are made by the package itself (real JWTs, session cookies, bcrypt hashes), twice
each: sanitized, two runs must read the same, and what is not random must survive.
"""

from __future__ import annotations

import base64
import json
import pprint
import re
import secrets
import time
from email.utils import formatdate
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

from authcourse import CourseServer, SessionManager, TokenService, hash_password, shorten

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = get_sanitize_patterns((ROOT / "notebooks" / "sanitize.cfg").read_text(encoding="utf-8"))


def sanitize(text: str) -> str:
    """What nbval does to every output before comparing it."""
    for regex, replacement in PATTERNS:
        text = re.sub(regex, replacement, text)
    return text


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def one_run(run: int) -> dict[str, str]:
    """Outputs a notebook could print, with fresh random values (`run` makes the others differ)."""
    secret = secrets.token_bytes(32)
    tokens = TokenService(secret)
    token = tokens.create_access_token(1, "user")
    session_id = secrets.token_urlsafe(32)
    cookie = SessionManager(None, secret).sign(session_id)  # type: ignore[arg-type]
    return {
        "jwt": f"Authorization: Bearer {token}",
        "cookie": f"Set-Cookie: sid={cookie}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax",
        "store key": f"['session:{session_id}', 'user-sessions:1']",
        "secret": f"AUTHCOURSE_SECRET={secrets.token_urlsafe(32)} hmac={secrets.token_hex(32)}",
        "short": shorten(f"Cookie: sid={cookie}") + " " + shorten(f"Bearer {token}"),
        "bcrypt": hash_password("wonderland", rounds=4),
        "claims": pprint.pformat(claims_of(token), width=60),
        "json claims": json.dumps(claims_of(token)),
        "denylist": f"denylist:{secrets.token_urlsafe(16)}",
        "session entry": str({"user_id": 1, "created_at": 1795767810.932557 + run}),
        "date": f"date: {formatdate(time.time() - 86400 * run, usegmt=True)}",
        "iso": f"logged in at 2026-11-27T08:{run:02d}:00.123456+00:00",
        "duration": f"login took {0.25 + run / 1000} s, verify {20 + run} µs, lookup {30 + run}ms",
        "port": f"<CourseServer session store=fakeredis http://127.0.0.1:{40000 + run}>",
        "path": f"File /tmp/ipykernel_{1000 + run}/{2000 + run}.py:3",
        "site": f"/work/x{run}/.venv/lib/python3.11/site-packages/jwt/api_jwt.py:1: Warning",
        "address": f"<object object at 0x{secrets.token_hex(6)}>",
        "pid": f"redis-server pid {3000 + run}",
        "uuid": f"model {'%08x-0000-4000-8000-%012x' % (run, run)}",
    }


@pytest.fixture(scope="module")
def runs() -> tuple[dict[str, str], dict[str, str]]:
    return one_run(1), one_run(2)


def test_the_file_has_rules() -> None:
    assert len(PATTERNS) >= 15
    for regex, _ in PATTERNS:
        re.compile(regex)


@pytest.mark.parametrize("kind", list(one_run(0)))
def test_two_runs_read_the_same_once_sanitized(runs, kind: str) -> None:
    first, second = runs
    assert first[kind] != second[kind], "the sample is not random: it tests nothing"
    assert sanitize(first[kind]) == sanitize(second[kind])


def test_each_kind_is_replaced_by_its_own_placeholder(runs) -> None:
    shown = {kind: sanitize(text) for kind, text in runs[0].items()}
    assert shown["jwt"] == "Authorization: Bearer <JWT>"
    assert shown["cookie"] == "Set-Cookie: sid=<SESSION-ID>.<SIGNATURE>; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax"
    assert shown["store key"] == "['session:<SESSION-ID>', 'user-sessions:1']"
    assert shown["secret"] == "AUTHCOURSE_SECRET=<256-BIT-VALUE> hmac=<256-BIT-HEX>"
    assert shown["short"] == "Cookie: sid=<SHORT>… Bearer <SHORT>…"
    assert shown["bcrypt"] == "$2b$04$<SALT+HASH>", "the work factor stays visible"
    assert "'jti': '<JTI>'" in shown["claims"] and "'iat': <EPOCH>" in shown["claims"]
    assert "'sub': '1'" in shown["claims"] and "'role': 'user'" in shown["claims"]
    assert '"exp": <EPOCH>' in shown["json claims"] and '"jti": "<JTI>"' in shown["json claims"]
    assert shown["date"] == "date: <HTTP-DATE>"
    assert shown["port"].endswith("http://127.0.0.1:<PORT>>")
    assert shown["path"] == "File <KERNEL-CELL>:3"
    assert shown["site"] == "<SITE-PACKAGES>/jwt/api_jwt.py:1: Warning"


def test_what_is_not_random_survives() -> None:
    fixed = [
        "Set-Cookie: sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax",
        '{"error":"Not authenticated"}',
        "{'user': {'id': 1, 'name': 'Alice', 'email': 'alice@example.com', 'role': 'user'}}",
        "session server: ['user-sessions:1']",
        "token lifetime 86400 s, idle timeout 1800 s",
        "→ POST /login\n← 401 Unauthorized\n    WWW-Authenticate: Bearer",
        "│ GET /api/profile ──────►│ no store access",
    ]
    for text in fixed:
        assert sanitize(text) == text


def test_a_real_notebook_output_is_stable() -> None:
    with CourseServer(bcrypt_rounds=4) as first, CourseServer(bcrypt_rounds=4) as second:
        assert first.url != second.url
        assert sanitize(repr(first)) == sanitize(repr(second))


def test_refresh_tokens_and_their_families_are_sanitized_and_the_generation_stays() -> None:
    from authcourse.refresh import RefreshTokens, family_key

    def sample() -> str:
        tokens = RefreshTokens(None, secrets.token_bytes(32))  # type: ignore[arg-type]
        family_id = secrets.token_urlsafe(16)
        token = tokens._token(family_id, 3)
        return f"Set-Cookie: refresh={token}; Path=/refresh {family_key(family_id)} {{'fam': '{family_id}'}}"

    first, second = sample(), sample()
    assert first != second
    assert sanitize(first) == sanitize(second) == (
        "Set-Cookie: refresh=rt_<FAMILY>.3.<MAC>; Path=/refresh refresh-family:<FAMILY> {'fam': '<FAMILY>'}"
    )


def test_the_chromium_build_is_sanitized_and_the_browser_results_stay() -> None:
    assert sanitize("recorded in Chromium 156.0.8078.108") == sanitize("recorded in Chromium 156.0.8078.114") \
        == "recorded in Chromium <VERSION>"
    for fixed in ("model agrees with Chromium on 56 of 56 cases", "the lab's Chromium (third-party cookies blocked)"):
        assert sanitize(fixed) == fixed
