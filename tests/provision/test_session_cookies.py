"""Provisioning keeps Logto's cookies as a browser does, on the exact Set-Cookie headers real Logto 1.37.1 sent
(tests/data/logto-1.37.1/first-admin-cookies.json, recorded from the reference stack: see the README beside it).

Real Logto's oidc-provider fork sets JSON values (`_interaction={"admin-console":"…","_legacy":"…"}`); the old
parser (`http.cookies.SimpleCookie`) dropped them, and the experience API answered `400 session.not_found`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest

from lobestack.probes.http import Response
from lobestack.provision.session import WebSession

RECORDED = Path(__file__).parents[1] / "data" / "logto-1.37.1" / "first-admin-cookies.json"


def recorded() -> list[dict[str, Any]]:
    return json.loads(RECORDED.read_text(encoding="utf-8"))["exchanges"]


@pytest.fixture
def at_recording(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded cookies' Expires are absolute dates: replay them at the instant they were recorded."""
    instant = json.loads(RECORDED.read_text(encoding="utf-8"))["recorded_at"]
    epoch = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    monkeypatch.setattr(time, "time", lambda: epoch)


class Replay:
    """A probe that answers the recorded responses in order and keeps what was sent."""

    def __init__(self, exchanges: list[dict[str, Any]]) -> None:
        self.exchanges = list(exchanges)
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str, url: str, *, headers: dict[str, str], body: bytes | None = None) -> Response:
        self.sent.append((method, url, dict(headers)))
        exchange = self.exchanges.pop(0)
        assert (method, url) == (exchange["method"], exchange["url"]), (method, url)
        return Response(
            url=url, status=exchange["status"], headers={}, body=b"", set_cookies=tuple(exchange["set_cookie"])
        )


def _cookie_pairs(header: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in header.split("; ") if "=" in part)


def test_the_recording_has_logtos_json_cookies() -> None:
    cookies = [c for e in recorded() for c in e["set_cookie"]]
    assert any(c.startswith('_interaction={"admin-console":') for c in cookies), cookies
    assert any(c.startswith('_logto={"appId":"admin-console"}') for c in cookies), cookies


def test_the_old_parser_drops_them() -> None:
    """Why provisioning failed on real Logto: SimpleCookie (RFC 2109) silently loses the JSON-valued cookies."""
    for exchange in recorded():
        for header in exchange["set_cookie"]:
            name = header.split("=", 1)[0]
            if name in ("_interaction", "_logto"):
                parsed: SimpleCookie = SimpleCookie()
                parsed.load(header)
                assert name not in parsed


@pytest.mark.usefixtures("at_recording")
def test_each_request_sends_back_the_cookies_a_browser_would() -> None:
    """Replaying the recorded first-admin exchange: every request carries exactly the cookies it carried in the
    recorded run, which real Logto accepted (each answer's status is recorded), JSON values whole."""
    exchanges = recorded()
    probe = Replay(exchanges)
    session = WebSession(probe)  # type: ignore[arg-type]
    for exchange in exchanges:
        session.request(exchange["method"], exchange["url"])
    for (_, url, headers), exchange in zip(probe.sent, exchanges, strict=True):
        assert _cookie_pairs(headers.get("Cookie", "")) == exchange["cookie_sent"], url


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        (
            '_interaction={"admin-console":"a1","_legacy":"a1"}; path=/; samesite=lax; httponly',
            '{"admin-console":"a1","_legacy":"a1"}',
        ),
        ("plain=v; Path=/", "v"),
        ("spaced = v w ; Path=/", "v w"),
        ("with=a=b=c; Path=/", "a=b=c"),
    ],
)
def test_values_are_read_as_rfc6265_reads_them(header: str, kept: str) -> None:
    probe = Replay([{"method": "GET", "url": "https://auth.test/x", "status": 200, "set_cookie": [header]}])
    session = WebSession(probe)  # type: ignore[arg-type]
    session.request("GET", "https://auth.test/x")
    name = header.split("=", 1)[0].strip()
    assert session._jar["https://auth.test"][name].value == kept


@pytest.mark.parametrize(
    "removal",
    [
        "_interaction=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; samesite=lax; httponly",
        "_interaction=gone; Max-Age=0; Path=/",
        "_interaction=gone; Max-Age=-1; Path=/",
    ],
)
def test_an_expired_cookie_is_forgotten(removal: str) -> None:
    exchanges = [
        {"method": "GET", "url": "https://auth.test/a", "status": 303, "set_cookie": ["_interaction=uid1; path=/"]},
        {"method": "GET", "url": "https://auth.test/b", "status": 200, "set_cookie": [removal]},
    ]
    session = WebSession(Replay(exchanges))  # type: ignore[arg-type]
    session.request("GET", "https://auth.test/a")
    assert "_interaction" in session._jar["https://auth.test"]
    session.request("GET", "https://auth.test/b")
    assert "_interaction" not in session._jar["https://auth.test"]


def test_a_pair_without_equals_is_ignored() -> None:
    session = WebSession(
        Replay([{"method": "GET", "url": "https://auth.test/", "status": 200, "set_cookie": ["lonely; Path=/"]}])
    )  # type: ignore[arg-type]
    session.request("GET", "https://auth.test/")
    assert session._jar["https://auth.test"] == {}
