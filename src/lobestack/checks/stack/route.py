"""Routing the stack depends on beyond one vhost per name: the console's paths on the auth name, and the
Authorization header LobeChat's NextAuth adapter sends to itself through the proxy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from lobestack.checks.faults import SiteEdit, fault
from lobestack.checks.registry import Finding, Group
from lobestack.probes import ProbeError
from lobestack.probes.http import Response
from lobestack.targets.target import Target

GROUP = Group("ROUTE", layer="stack", title="Routing")


@GROUP.check(
    "ROUTE-ADMIN-REDIRECT",
    title="/admin and /console on the auth origin redirect to LOGTO_ADMIN_ENDPOINT/console",
    fix="in the auth vhost: `location = /admin { return 301 <ADMIN_ENDPOINT>/console; }` and `location /console "
    "{ return 301 <ADMIN_ENDPOINT>$request_uri; }`",
    faults=[
        fault(
            SiteEdit(
                "auth.conf", "return 301 https://auth.test:8443/console;", "return 301 https://auth.test/console;"
            ),
            expect="/admin: 301 to 'https://auth.test/console'",
        )
    ],
    impact="advice",
)
def admin_redirect(target: Target) -> Iterator[Finding]:
    endpoint = target.deployment.public_url("LOGTO_ENDPOINT")
    expected = f"{target.deployment.public_url('LOGTO_ADMIN_ENDPOINT')}/console"
    urls = [f"{endpoint}{path}" for path in ("/admin", "/console")]

    def answer(url: str) -> Response | ProbeError:
        try:
            return target.http.get(url)
        except ProbeError as exc:
            return exc

    # both at once: an origin that never answers costs one probe's bound, not two
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        answers = list(pool.map(answer, urls))
    for url, response in zip(urls, answers, strict=True):
        if isinstance(response, ProbeError):
            yield Finding(f"GET {url}: {response}")
            continue
        location = response.header("location") or ""
        if response.status not in (301, 302, 307, 308) or location != expected:
            yield Finding(f"GET {url}: {response.status} to {location!r}, expected a redirect to {expected!r}")


@GROUP.check(
    "ROUTE-AUTHORIZATION",
    title="the app vhost keeps the Authorization header LobeChat's NextAuth adapter sends to APP_URL/api/auth/adapter",
    fix="never clear or overwrite Authorization on the app vhost (no `proxy_set_header Authorization …`): LobeChat "
    "calls its own APP_URL with `Bearer KEY_VAULTS_SECRET`, and sign-in fails when the header is lost",
    faults=[
        fault(
            SiteEdit(
                "app.conf",
                "proxy_pass http://127.0.0.1:23210;",
                'proxy_pass http://127.0.0.1:23210;\n        proxy_set_header Authorization "";',
            ),
            expect="401 'Unauthorized'",
        )
    ],
    impact="breaks",
)
def authorization_kept(target: Target) -> Iterator[Finding]:
    # LobeChat 1.143.3's route (src/app/(backend)/api/auth/adapter/route.ts) answers 401 {error: "Unauthorized"}
    # unless the bearer matches KEY_VAULTS_SECRET, then 400 {error: "Invalid action"} for an action it does not
    # know: a read-only way to see the header arrive.
    url = f"{target.deployment.app_env('APP_URL').rstrip('/')}/api/auth/adapter"
    headers = {
        "Authorization": f"Bearer {target.deployment.app_env('KEY_VAULTS_SECRET')}",
        "Content-Type": "application/json",
    }
    try:
        response = target.http.request("POST", url, headers=headers, body=b'{"action":"lobestack-probe"}')
        answer = json.loads(response.body)
    except ProbeError as exc:
        yield Finding(f"POST {url}: {exc}")
        return
    except ValueError:
        yield Finding(f"POST {url}: {response.status}, not LobeChat's JSON: {response.text[:120]!r}")
        return
    error = answer.get("error") if isinstance(answer, dict) else None
    if response.status != 400 or error != "Invalid action":
        yield Finding(
            f"POST {url} with the adapter's bearer token: {response.status} {error!r}, expected 400 'Invalid "
            "action' (the token arrived and was accepted)"
        )
