"""200 clients at once: every one answered, every one sees its own user, no session lost or crossed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from authcourse.sessions import session_key
from conftest import TLS

CLIENTS = 200

LOADS = [
    ("session", "none", "fakeredis"),
    pytest.param("session", "none", "redis", marks=pytest.mark.redis),
    ("token", "version", "memory"),
]


async def one_client(url: str, mode: str, n: int) -> tuple[int, str, str]:
    """Log in as user n and read the profile; return (n, the credential, the email the server saw)."""
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=url, timeout=60, verify=TLS, limits=limits) as client:
        response = await client.post("/login", json={"email": f"user{n}@example.com", "password": f"password-{n}"})
        assert response.status_code == 200, response.text
        if mode == "token":
            credential = response.json()["token"]
            headers = {"Authorization": f"Bearer {credential}"}
        else:
            credential = client.cookies["sid" if mode == "session" else "token"]
            headers = {}
        profile = await client.get("/api/profile", headers=headers)
        assert profile.status_code == 200, profile.text
        return n, credential, profile.json()["user"]["email"]


async def crowd(url: str, mode: str) -> list[tuple[int, str, str]]:
    return await asyncio.gather(*(one_client(url, mode, n) for n in range(CLIENTS)))


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "revocation", "store"), LOADS)
def test_200_concurrent_clients_each_get_their_own_session(make_server, mode, revocation, store):
    server = make_server(mode, revocation=revocation, store=store)
    for n in range(CLIENTS):
        server.app.state.users.add_user(f"user{n}@example.com", f"password-{n}")

    results = asyncio.run(crowd(server.url, mode))

    assert len(results) == CLIENTS
    assert all(email == f"user{n}@example.com" for n, _, email in results), "a client saw someone else"
    credentials = {credential for _, credential, _ in results}
    assert len(credentials) == CLIENTS, "two clients were handed the same credential"
    if mode == "session":
        issued = {session_key(credential.rpartition(".")[0]) for credential in credentials}
        assert set(server.store.keys("session:*")) == issued, "a session was lost"

    # Afterwards, each credential still names its own user, read back one by one.
    with httpx.Client(base_url=server.url, verify=TLS) as client:
        for n, credential, _ in results[:: CLIENTS // 20]:
            headers = (
                {"Authorization": f"Bearer {credential}"}
                if mode == "token"
                else {"Cookie": f"{'sid' if mode == 'session' else 'token'}={credential}"}
            )
            response = client.get("/api/profile", headers=headers)
            assert response.json()["user"]["email"] == f"user{n}@example.com"
            client.cookies.clear()
