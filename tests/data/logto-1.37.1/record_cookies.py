"""Records what real Logto sends as cookies during the console admin's sign-in through its experience API (what
`lobestack provision` does when .env has no provisioning app): each request's method, URL (query cut to its keys,
the authorization request's values kept as they are public), status, every Set-Cookie header unjoined, and the Cookie
header the client sent, which Logto accepted. Run against a kept reference stack:

    LOBESTACK_LOGTO_ADMIN_USERNAME=… LOBESTACK_LOGTO_ADMIN_PASSWORD=… \
      python tests/data/logto-1.37.1/record_cookies.py DEPLOYMENT_DIR CA_FILE > first-admin-cookies.json
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from lobestack.deployment.model import load_deployment
from lobestack.probes.http import HttpProbe
from lobestack.provision.logto import Logto
from lobestack.provision.session import WebSession


def main(root: str, ca_file: str) -> None:
    deployment = load_deployment(root)
    names = [deployment.origin(k).host for k in ("APP_URL", "LOGTO_ENDPOINT", "S3_ENDPOINT")]
    probe = HttpProbe(resolve={n: "127.0.0.1" for n in names}, ca_file=Path(ca_file))
    exchanges: list[dict] = []
    request = WebSession.request

    def recording(self: WebSession, method: str, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        sent = self._cookie_header(url)
        response = request(self, method, url, **kwargs)
        exchanges.append(
            {
                "method": method,
                "url": url,
                "status": response.status,
                "set_cookie": list(response.set_cookies),
                "cookie_sent": dict(p.split("=", 1) for p in sent.split("; ") if "=" in p),
            }
        )
        return response

    WebSession.request = recording  # type: ignore[method-assign]
    logto = Logto(probe, deployment.env.get("LOGTO_ENDPOINT"), deployment.env.get("LOGTO_ADMIN_ENDPOINT"))
    logto.admin_token(os.environ["LOBESTACK_LOGTO_ADMIN_USERNAME"], os.environ["LOBESTACK_LOGTO_ADMIN_PASSWORD"])
    json.dump(
        {
            "source": "real Logto 1.37.1 (lobestack/logto:1.37.1, the reference set) behind the bundle's Nginx: the "
            "console admin's sign-in through the admin tenant's experience API, recorded by record_cookies.py",
            # the cookies' Expires are absolute: a replay reads them at this instant
            "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "exchanges": exchanges,
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
