"""The JWT inspector: the plain function, its printout, and the widget driven from Python."""

from __future__ import annotations

import html
import json

import httpx
import pytest
from conftest import ALICE, SECRET

from authcourse import TokenService, later
from authcourse.widgets.jwt_inspector import (
    JWTInspector,
    b64url_encode,
    describe_span,
    inspect_token,
    render_html,
    render_text,
    show_token,
)


@pytest.fixture
def server(shared_server):
    return shared_server("token", secret=SECRET)


@pytest.fixture
def token(server) -> str:
    response = httpx.post(f"{server.url}/login", json={"email": ALICE[0], "password": ALICE[1]})
    return response.json()["token"]


def with_payload(token: str, **changes) -> str:
    header, _, signature = token.split(".")
    claims = {**inspect_token(token).payload, **changes}
    return f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"


def test_a_good_token_is_taken_apart_checked_and_accepted(server, token):
    report = inspect_token(token, secret=SECRET.encode(), server_url=server.url)
    assert report.header == {"alg": "HS256", "typ": "JWT"}
    assert report.payload["sub"] == "1" and report.payload["role"] == "user"
    assert report.signature_valid is True
    assert (report.server_status, report.accepted) == (200, True)
    claims = {claim: meaning for claim, _, meaning in report.claims}
    assert claims["exp"] == "expires; about 24 h left"
    assert claims["iat"] == "issued at; under a minute ago"


def test_an_edited_payload_fails_the_signature_and_the_server(server, token):
    report = inspect_token(with_payload(token, role="admin"), secret=SECRET.encode(), server_url=server.url)
    assert report.payload["role"] == "admin"
    assert report.signature_valid is False
    assert (report.server_status, report.server_says) == (401, "Invalid or expired token")


def test_an_expired_token_shows_how_long_ago_and_the_server_refuses_it(server):
    with later(hours=-25):
        old = TokenService(SECRET.encode()).create_access_token(1, "user")
    report = inspect_token(old, secret=SECRET.encode(), server_url=server.url)
    assert report.signature_valid is True, "the signature is fine: only the time is wrong"
    assert dict((c, m) for c, _, m in report.claims)["exp"] == "expires; expired 60 min ago"
    assert report.accepted is False


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c", "eyJ.eyJ.x", "e30.W10.x", "a.b.c.d"])
def test_garbage_is_described_never_raised(garbage):
    report = inspect_token(garbage, secret=b"k" * 32)
    assert report.problems, garbage
    assert render_text(report) and render_html(report)


def test_the_printout_and_the_widget_show_the_same_lines(server, token, capsys):
    report = show_token(token, secret=SECRET.encode(), server_url=server.url)
    printed = capsys.readouterr().out
    inspector = JWTInspector({"alice": token}, secret=SECRET.encode(), server_url=server.url)
    for section, text in report.lines():
        assert text in printed
        if section != "parts":
            assert html.escape(text) in inspector.view.value
    for part in token.split("."):
        assert part in inspector.view.value


def test_picking_a_token_fills_the_fields_and_the_report(server, token):
    inspector = JWTInspector({"alice": token, "garbage": "not.a.token"}, secret=SECRET.encode(), server_url=server.url)
    assert inspector.token.value == token, "the first sample is shown at once"
    assert json.loads(inspector.payload.value)["role"] == "user"
    assert inspector.report.accepted is True
    inspector.pick.value = "not.a.token"
    assert inspector.token.value == "not.a.token"
    assert inspector.report.accepted is False and inspector.report.problems


def test_editing_the_payload_in_the_widget_keeps_the_old_signature_and_fails(server, token):
    inspector = JWTInspector({"alice": token}, secret=SECRET.encode(), server_url=server.url)
    inspector.payload.value = inspector.payload.value.replace('"user"', '"admin"')
    assert inspector.token.value.split(".")[2] == token.split(".")[2]
    assert inspector.report.payload["role"] == "admin"
    assert inspector.report.signature_valid is False and inspector.report.accepted is False
    assert "does NOT match" in inspector.view.value


def test_a_payload_that_is_not_json_is_said_so_and_the_token_is_kept(token):
    inspector = JWTInspector({"alice": token}, secret=SECRET.encode())
    inspector.payload.value = "{not json"
    assert inspector.token.value == token
    assert "payload is not JSON" in inspector.view.value


def test_pasting_a_token_updates_the_report(server, token):
    inspector = JWTInspector(secret=SECRET.encode(), server_url=server.url)
    assert inspector.report.problems, "empty to begin with"
    inspector.token.value = token
    assert inspector.report.accepted is True


def test_the_widget_s_text_repr_is_short_and_stable(token):
    bundle = JWTInspector({"alice": token})._repr_mimebundle_()
    assert bundle["text/plain"] == "JWT inspector (an ipywidget: run the notebook to use it)"
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_a_server_that_is_gone_is_said_so(token):
    from authcourse.realservers.process import free_port

    url = f"http://127.0.0.1:{free_port()}"
    report = inspect_token(token, server_url=url)
    section, text = report.lines()[-1]
    assert section == "server" and text.startswith(f"could not ask: nothing answers at {url}"), text
    assert "Re-run the cell that starts the server" in text


def server_row_colour(report) -> str:
    [row] = [row for row in render_html(report).split("<tr>") if ">server<" in row]
    return row.split("color:")[2].split(";")[0]


def test_a_server_that_is_gone_is_shown_in_red_never_green(server, token):
    from authcourse.realservers.process import free_port

    assert server_row_colour(inspect_token(token, server_url=server.url)) == "#2e7d32"  # accepted: green
    assert server_row_colour(inspect_token(token + "x", server_url=server.url)) == "#c62828"  # refused: red
    gone = JWTInspector({"alice": token}, server_url=f"http://127.0.0.1:{free_port()}")
    assert server_row_colour(gone.report) == "#c62828"
    assert "#2e7d32" not in gone.view.value.split(">server<")[1], "an unreachable server must not look accepted"


@pytest.mark.parametrize(("seconds", "text"), [(5, "under a minute"), (-600, "10 min"), (86400, "about 24 h"),
                                              (10 * 86400, "10 days")])
def test_spans_read_like_people_say_them(seconds, text):
    assert describe_span(seconds) == text
