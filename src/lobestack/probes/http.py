"""HTTPS through the stack's Nginx: public names resolved to a chosen address (the ephemeral stack's loopback),
TLS verified against the deployment's CA (or the system store), SNI and Host as a browser sends them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import urllib3

from lobestack.probes import ProbeError
from lobestack.probes.budget import REQUESTS
from lobestack.probes.trust import verifying_context


class HttpProbeError(ProbeError):
    """The request could not be made (DNS, connect, TLS, timeout): `str()` says which and why."""


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: tuple[str, ...] = ()  # every Set-Cookie header, unjoined
    fields: tuple[tuple[str, str], ...] = ()  # every header field in order, repeated ones apart (`headers` joins them)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        """Each field of a repeated header apart, in the order received (RFC 6797 §8.1: only the first HSTS counts)."""
        return [v for k, v in self.fields if k.lower() == name.lower()]


class HttpProbe:
    def __init__(
        self, *, resolve: dict[str, str] | None = None, ca_file: Path | None = None, timeout_s: float = 10.0
    ) -> None:
        self.resolve = resolve or {}
        self.timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)
        self._context = verifying_context(ca_file)

    def get(self, url: str, *, follow: int = 0, headers: dict[str, str] | None = None) -> Response:
        """GET `url`; follow up to `follow` redirects. Raises ProbeError when no HTTP answer comes back."""
        return self.request("GET", url, follow=follow, headers=headers)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        follow: int = 0,
    ) -> Response:
        """One request (redirects followed with GET, up to `follow`). Raises ProbeError when no answer comes back."""
        for _ in range(follow + 1):
            response = self._once(url, headers or {}, method, body)
            method, body = "GET", None
            location = response.header("location")
            if follow and 300 <= response.status < 400 and location:
                url = urljoin(url, location)
                follow -= 1
                continue
            return response
        return response

    def _once(self, url: str, headers: dict[str, str], method: str = "GET", body: bytes | None = None) -> Response:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self.resolve.get(host, host)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host_header = host if parts.port is None else f"{host}:{port}"
        REQUESTS.count("http")
        try:
            if parts.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    address,
                    port,
                    ssl_context=self._context,
                    server_hostname=host,
                    assert_hostname=host,
                    timeout=self.timeout,
                    retries=False,
                )
            else:
                pool = urllib3.HTTPConnectionPool(address, port, timeout=self.timeout, retries=False)
            with pool:
                raw = pool.urlopen(
                    method,
                    path,
                    body=body,
                    headers={"Host": host_header, **headers},
                    redirect=False,
                    preload_content=True,
                )
        except urllib3.exceptions.SSLError as exc:
            raise HttpProbeError(f"TLS to {host}:{port} failed: {_reason(exc)}") from None
        except urllib3.exceptions.HTTPError as exc:
            raise HttpProbeError(f"no answer from {host}:{port} (via {address}): {_reason(exc)}") from None
        return Response(
            url=url,
            status=raw.status,
            headers=dict(raw.headers),
            body=raw.data,
            set_cookies=tuple(raw.headers.getlist("set-cookie")),
            fields=tuple(raw.headers.items()),
        )


def _reason(exc: Exception) -> str:
    inner = getattr(exc, "reason", None) or exc
    return str(inner).split(": ", 1)[-1] if ": " in str(inner) else str(inner)
