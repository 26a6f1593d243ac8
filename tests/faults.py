"""Fault tooling (test infrastructure, not shipped): apply a check's fault to a copy of a deployment directory
(static steps) or to a running ephemeral stack (live steps), and restore a live fault byte for byte.

A live step changes exactly one thing: its text must occur exactly once, and every file it touches is saved first
and written back unchanged afterwards (then Nginx is reloaded, or the services recreated, again). A change made
through Logto's Management API is read back first and written back exactly (and read again to prove it)."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lobestack import pki
from lobestack.checks.faults import (
    STATIC_STEPS,
    Certificate,
    Command,
    EnvSet,
    Fault,
    Listen,
    LogtoRedirectUris,
    Pass,
    Pause,
    Recreate,
    SiteEdit,
    Stop,
)
from lobestack.deployment import load_deployment
from lobestack.deployment.envfile import format_env_line
from lobestack.errors import BadInput


def _reload(stack: Any) -> None:
    """The stack's model of its deployment, read again after a change; a fault that breaks a file on purpose (so
    that `nginx -t` fails) leaves the last model: those checks judge the running stack, not the files."""
    with contextlib.suppress(BadInput):
        stack.deployment = load_deployment(stack.root)


def apply_static(fault: Fault | Pass, root: Path) -> None:
    """Apply a fault's (or a pass variant's) steps to a copy of a deployment directory."""
    for step in fault.steps:
        if not isinstance(step, STATIC_STEPS):
            raise TypeError(f"{step} is not a static step")
        step.apply(root)


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    found = text.count(old)
    if found != 1:
        raise AssertionError(f"fault text {old!r} occurs {found} times in {path.name}, not exactly once")
    path.write_text(text.replace(old, new), encoding="utf-8")


def _env_line_edit(path: Path, key: str, value: str) -> None:
    text = path.read_text(encoding="utf-8")
    lines = [m for m in re.finditer(rf"(?m)^{re.escape(key)}=.*$", text)]
    if len(lines) != 1:
        raise AssertionError(f"{key} has {len(lines)} lines in .env, not exactly one")
    match = lines[0]
    path.write_text(text[: match.start()] + format_env_line(key, value) + text[match.end() :], encoding="utf-8")


class _Saved:
    """Files as they were before a step, written back byte for byte."""

    def __init__(self, paths: list[Path]) -> None:
        self.content = {p: p.read_bytes() for p in paths}

    def restore(self) -> None:
        for path, data in self.content.items():
            path.write_bytes(data)


def _recreate(stack: Any, services: tuple[str, ...]) -> None:
    _reload(stack)
    if not services:  # a value only the suite reads: no service sees it
        return
    stack.compose_run("up", "-d", "--no-deps", "--force-recreate", "--no-build", *services, timeout_s=180)
    stack.wait_ready(*services)


def _judged(stack: Any, service: str, timeout_s: float = 30.0) -> None:
    """Wait (bounded) until Docker has judged a service recreated by a fault: restarted once, or health no longer
    "starting"."""
    deadline = time.monotonic() + timeout_s
    state: dict = {}
    while time.monotonic() < deadline:
        cid = stack.compose_run("ps", "-a", "-q", service, check=False).stdout.split()
        if cid:
            out = subprocess.run(
                ["docker", "inspect", "--format", "{{json .}}", cid[0]], capture_output=True, text=True, timeout=30
            ).stdout
            data = json.loads(out or "{}")
            state = data.get("State") or {}
            health = (state.get("Health") or {}).get("Status", "")
            if int(data.get("RestartCount") or 0) >= 1 or health in ("healthy", "unhealthy"):
                return
        time.sleep(0.3)
    raise AssertionError(f"{service} was not judged by Docker within {timeout_s:.0f} s (last state {state})")


def _command(stack: Any, service: str, argv: tuple[str, ...]) -> None:
    result = stack.exec(service, list(argv), timeout_s=60)
    if result.returncode != 0:
        raise AssertionError(f"fault command in {service} failed ({result.returncode}): {result.stderr[-300:]}")


def _certificate(stack: Any, step: Certificate) -> None:
    out = stack.root / "certs" / step.name
    kind, _, arg = step.kind.partition(":")
    if kind == "untrusted":
        pki.CertificateAuthority.create().issue(out, step.name)
    elif kind == "expired":
        stack.ca.issue(out, step.name, expired=True)
    elif kind == "wrong-name":
        stack.ca.issue(out, "other.test")
    elif kind == "expires-in":
        stack.ca.issue(out, step.name, days=float(arg) + 0.5)
    else:
        raise ValueError(f"unknown certificate fault {step.kind!r}")


def _lobechat_app(stack: Any) -> tuple[Any, str]:
    """The Management API (the provisioning app's token) and the id of LobeChat's application."""
    from lobestack.provision.logto import Logto
    from lobestack.provision.steps import APP_ID_KEY, APP_SECRET_KEY

    env = stack.deployment.env
    logto = Logto(stack.http, env.get("LOGTO_ENDPOINT"), env.get("LOGTO_ADMIN_ENDPOINT"))
    api = logto.management(logto.machine_token(env.get(APP_ID_KEY), env.get(APP_SECRET_KEY)))
    return api, stack.deployment.app_env("AUTH_LOGTO_ID")


def _redirect_uris(stack: Any, step: LogtoRedirectUris) -> tuple[Callable[[], None], Callable[[], None]]:
    saved: dict[str, Any] = {}

    def apply() -> None:
        api, app_id = _lobechat_app(stack)
        saved.update(api.application(app_id)["oidcClientMetadata"])
        api.update_application(app_id, {"oidcClientMetadata": {**saved, "redirectUris": list(step.redirect_uris)}})

    def undo() -> None:
        if not saved:
            return
        api, app_id = _lobechat_app(stack)
        api.update_application(app_id, {"oidcClientMetadata": saved})
        restored = api.application(app_id)["oidcClientMetadata"]
        if restored != saved:
            raise AssertionError(f"{step}: not restored exactly: {restored} != {saved}")

    return apply, undo


def _live_step(stack: Any, step: Any) -> tuple[Callable[[], None], Callable[[], None]]:
    """(apply, undo) of one live step."""
    if isinstance(step, LogtoRedirectUris):
        return _redirect_uris(stack, step)
    if isinstance(step, SiteEdit):
        path = stack.root / "nginx" / step.file
        saved = _Saved([path])

        def apply() -> None:
            _replace_once(path, step.old, step.new)
            if step.reload:
                stack.reload_nginx()

        def undo() -> None:
            saved.restore()
            if step.reload:
                stack.reload_nginx()

        return apply, undo
    if isinstance(step, Recreate | EnvSet):
        path = stack.root / (".env" if isinstance(step, EnvSet) else step.file)
        saved = _Saved([path])

        def apply() -> None:
            if isinstance(step, EnvSet):
                _env_line_edit(path, step.key, step.value)
            else:
                _replace_once(path, step.old, step.new)
            if isinstance(step, Recreate) and not step.ready:
                _reload(stack)
                stack.compose_run(
                    "up", "-d", "--no-deps", "--force-recreate", "--no-build", *step.services, timeout_s=180
                )
                for service in step.services:
                    _judged(stack, service)
            else:
                _recreate(stack, step.services)

        def undo() -> None:
            saved.restore()
            _recreate(stack, step.services)

        return apply, undo
    if isinstance(step, Pause):

        def undo_pause() -> None:
            stack.compose_run("unpause", step.service)
            stack.wait_ready(step.service)

        return (lambda: stack.compose_run("pause", step.service)), undo_pause
    if isinstance(step, Stop):

        def undo_stop() -> None:
            stack.compose_run("start", step.service)
            stack.wait_ready(step.service)

        return (lambda: stack.compose_run("stop", "--timeout", "5", step.service)), undo_stop
    if isinstance(step, Listen):
        listener = socket.socket(socket.AF_INET6 if ":" in step.address else socket.AF_INET)

        def listen() -> None:
            listener.bind((step.address, 0))
            listener.listen(1)

        return listen, listener.close
    if isinstance(step, Command):
        return (lambda: _command(stack, step.service, step.do)), (lambda: _command(stack, step.service, step.undo))
    if isinstance(step, Certificate):
        directory = stack.root / "certs" / step.name
        saved = _Saved(sorted(directory.iterdir()))

        def apply_cert() -> None:
            _certificate(stack, step)
            stack.reload_nginx()

        def undo_cert() -> None:
            saved.restore()
            stack.reload_nginx()

        return apply_cert, undo_cert
    raise TypeError(f"{step} is not a live step")


@contextlib.contextmanager
def injected(stack: Any, fault: Fault) -> Iterator[None]:
    """The stack with `fault` in place; afterwards every file it touched is back byte for byte and every service it
    recreated is ready again."""
    undos: list[Callable[[], None]] = []
    try:
        for step in fault.steps:
            apply, undo = _live_step(stack, step)
            undos.append(undo)
            apply()
        _reload(stack)
        yield
    finally:
        for undo in reversed(undos):
            undo()
        _reload(stack)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a deployment directory, for a byte-for-byte comparison."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
