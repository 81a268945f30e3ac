"""Hidden cases of exercise 15, fetch-metadata-guard."""

from __future__ import annotations

from typing import Any

from authcourse.grading.checks.fetch_metadata_guard import EXERCISE, accepted, refused
from authcourse.grading.checks.support import login, shown
from authcourse.grading.runtime import expect


@EXERCISE.case("a sibling subdomain's page (Sec-Fetch-Site: same-site): refused", hidden=True)
def same_site(server: Any) -> None:
    refused(server, "same-site is any subdomain (a blog, user content): not the application itself",
            **{"sec-fetch-site": "same-site", "origin": "https://blog.example"})


@EXERCISE.case("typed or bookmarked (Sec-Fetch-Site: none): 200", hidden=True)
def typed(server: Any) -> None:
    accepted(server, "no page made this request", **{"sec-fetch-site": "none"})


@EXERCISE.case("Origin: null (a sandboxed frame, a redirect): refused", hidden=True)
def null_origin(server: Any) -> None:
    refused(server, "null is not the server's own origin", origin="null")


@EXERCISE.case("Origin with the server's host but another port: refused", hidden=True)
def other_port(server: Any) -> None:
    scheme, _, rest = server.url.partition("://")
    host, _, port = rest.partition(":")
    other = f"{scheme}://{host}:{int(port) % 65535 + 1}"
    refused(server, "an origin is scheme, host AND port: compare the whole of it", origin=other)


@EXERCISE.case("a garbage Origin gets a 4xx with an error, never a 500", hidden=True)
def garbage(server: Any) -> None:
    response = login(server, headers={"origin": "javascript:alert(1)"})
    expect(400 <= response.status_code < 500, f"a garbage Origin answered {shown(response)}")
    try:
        body = response.json()
    except ValueError:
        body = None
    expect(isinstance(body, dict) and "error" in body, f"the refusal must be {{\"error\": ...}}, got {shown(response)}")
