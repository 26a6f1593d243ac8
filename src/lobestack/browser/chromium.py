"""Launching Debian's Chromium for a target (Playwright's own browser download cannot work on the CI host).

The browser reaches the public names through the stack's Nginx (`--host-resolver-rules`, like `curl --resolve`:
the URL, SNI and certificate check stay the public name's) and trusts the stack's CA the way a person's browser
does: an NSS database in a throwaway profile home (`$HOME/.pki/nssdb`, made with `certutil` from Debian's
`libnss3-tools`). Certificate errors are never switched off: a certificate the CA did not issue, an expired one or
one for another name fails the flow, as it would for a user."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach outside (ci-host.md).
CI_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
NSS_NICKNAME = "lobestack CA"
PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


class BrowserSetupError(Exception):
    """Chromium or certutil is missing, or the trust store could not be made: one line saying what to install."""


def chromium_path() -> str:
    path = os.environ.get("LOBESTACK_CHROMIUM", DEFAULT_CHROMIUM)
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        raise BrowserSetupError(
            f"no Chromium at {path} (scripts/setup-host installs Debian's `chromium`; LOBESTACK_CHROMIUM names "
            "another); Playwright's own browser download is not used"
        )
    return path


def trust_home(home: Path, ca_files: list[Path]) -> Path:
    """A throwaway profile home whose NSS database trusts `ca_files` for TLS servers (`-t C,,`), as a person who
    imported the CA into their browser. Returns `home`, for Chromium's $HOME."""
    certutil = shutil.which("certutil")
    if certutil is None:
        raise BrowserSetupError("no `certutil` (Debian's libnss3-tools; scripts/setup-host installs it)")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    database = f"sql:{nssdb}"
    _run([certutil, "-d", database, "-N", "--empty-password"])
    pems = [pem for ca_file in ca_files for pem in PEM.findall(Path(ca_file).read_text(encoding="utf-8"))]
    if ca_files and not pems:
        raise BrowserSetupError(f"no PEM certificate in {', '.join(map(str, ca_files))}")
    for index, pem in enumerate(pems):  # certutil takes one certificate at a time; a bundle has several
        _run([certutil, "-d", database, "-A", "-t", "C,,", "-n", f"{NSS_NICKNAME} {index}"], stdin=pem)
    return home


def _run(argv: list[str], stdin: str | None = None) -> None:
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise BrowserSetupError(f"{' '.join(argv[:2])} … failed: {(result.stderr or result.stdout).strip()[-300:]}")


def resolver_rules(pins: dict[str, str], *, only_pinned: bool) -> str:
    """Chromium's `--host-resolver-rules`: each pinned name to its address (the port is kept); with `only_pinned`
    every other name fails to resolve, so the browser cannot reach anything but the stack."""
    rules = [f"MAP {name} {address}" for name, address in sorted(pins.items())]
    if only_pinned:
        rules.append("MAP * ~NOTFOUND")
    return ", ".join(rules)


def launch_options(target: Any, home: Path) -> dict[str, Any]:
    """Playwright's `browser_type.launch(**options)` for `target`, with `home` already made by `trust_home`."""
    args = list(CI_ARGS)
    pins = target.name_pins()
    if pins:
        args.append("--host-resolver-rules=" + resolver_rules(pins, only_pinned=target.only_pinned_names))
        args.append("--no-proxy-server")  # pinned names are dialled directly, never through an HTTP proxy
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") or not pins}
    env["HOME"] = str(home)
    return {"executable_path": chromium_path(), "args": args, "env": env}


def browser_home(target: Any, directory: Path) -> Path:
    """The profile home for `target`: its CA (the ephemeral stack's, or every certificate of --ca-file) in a fresh
    NSS database, on top of what Chromium trusts anyway (its own root store), as for anyone."""
    ca_files = [Path(target.ca_file)] if target.ca_file else []
    return trust_home(directory, ca_files)
