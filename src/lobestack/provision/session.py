"""A client that keeps cookies, as a browser does, over the project's HttpProbe (names pinned like `curl --resolve`,
the deployment's CA trusted): Logto's sign-in and first-run flows live in cookies (`_interaction`, `_session`).

Cookies are read as a browser reads them (RFC 6265 §5.2: the value is everything after the first `=` up to the first
`;`), with the standard library's `http.cookiejar.parse_ns_headers`. Real Logto's oidc-provider fork sets JSON values
(`_interaction={"admin-console":"…","_legacy":"…"}`, `_logto={"appId":"admin-console"}`), which
`http.cookies.SimpleCookie` (an RFC 2109 parser) drops without a word: the interaction is then lost and Logto's
experience API answers `400 session.not_found`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from http.cookiejar import parse_ns_headers
from typing import Any
from urllib.parse import urljoin, urlsplit

from lobestack.probes.http import HttpProbe, Response


@dataclass
class _Cookie:
    value: str
    path: str


class WebSession:
    """Requests through `probe`, with a cookie jar per origin (host-only cookies, matched by path)."""

    def __init__(self, probe: HttpProbe) -> None:
        self.probe = probe
        self._jar: dict[str, dict[str, _Cookie]] = {}

    @staticmethod
    def _origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    def _cookie_header(self, url: str) -> str:
        path = urlsplit(url).path or "/"
        cookies = self._jar.get(self._origin(url), {})
        chosen = [
            f"{name}={c.value}"
            for name, c in cookies.items()
            if path == c.path or path.startswith(c.path.rstrip("/") + "/") or c.path == "/"
        ]
        return "; ".join(chosen)

    def _remember(self, url: str, response: Response) -> None:
        jar = self._jar.setdefault(self._origin(url), {})
        default_path = (urlsplit(url).path or "/").rsplit("/", 1)[0] or "/"
        for pairs in parse_ns_headers(response.set_cookies):
            (name, value), attributes = pairs[0], dict(pairs[1:])
            if not name or value is None:  # no `=` in the name-value pair: a browser ignores the cookie
                continue
            if _expired(attributes) or not value:
                jar.pop(name, None)
                continue
            path = attributes.get("path")
            jar[name] = _Cookie(value, path if isinstance(path, str) and path.startswith("/") else default_path)

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One request (no redirect followed); cookies sent and kept."""
        sent = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        elif form is not None:
            from urllib.parse import urlencode

            body = urlencode(form).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        cookie = self._cookie_header(url)
        if cookie:
            sent["Cookie"] = cookie
        sent.setdefault("Accept", "application/json, text/html;q=0.9")
        response = self.probe.request(method, url, headers=sent, body=body)
        self._remember(url, response)
        return response

    def follow(self, url: str, *, until: str, limit: int = 10) -> str:
        """GET `url` and follow redirects until one leads to a URL starting with `until`; returns that URL."""
        for _ in range(limit):
            if url.startswith(until):
                return url
            response = self.request("GET", url)
            location = response.header("location")
            if not (300 <= response.status < 400 and location):
                raise RedirectError(url, response)
            url = urljoin(url, location)
        raise RedirectError(url, None)


def _expired(attributes: dict[str, Any]) -> bool:
    """Max-Age wins over Expires (RFC 6265 §5.3); parse_ns_headers gives Expires as seconds since the epoch."""
    max_age = attributes.get("max-age")
    if max_age is not None:
        try:
            return int(max_age) <= 0
        except (TypeError, ValueError):
            pass
    expires = attributes.get("expires")
    return isinstance(expires, int | float) and expires <= time.time()


class RedirectError(Exception):
    """A redirect chain ended somewhere unexpected: where, and what answered there."""

    def __init__(self, url: str, response: Response | None) -> None:
        self.url = url
        self.response = response
        seen = f"{response.status} {response.text[:160]!r}" if response is not None else "too many redirects"
        super().__init__(f"GET {url.split('?', 1)[0]}: {seen}")
