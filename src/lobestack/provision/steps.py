"""`lobestack provision`: steps 4.2 and 4.3 of the deployment guide for a running deployment, through the services'
own interfaces, idempotent. Each step first reads what is there and changes only what differs; `plan` only reads.

1. Logto's first admin (the console's first run), when asked and only if there is none.
2. The provisioning application (machine-to-machine, role "Logto Management API access"): reused when .env's
   LOGTO_PROVISION_APP_ID/SECRET work, else found by name or created; its credentials are kept in .env.
3. LobeChat's application (Traditional, found by name): created, or its redirect URIs repaired.
4. AUTH_LOGTO_ID / AUTH_LOGTO_SECRET in .env, and `lobe` recreated only when they changed.
5. Optionally a test user, and optionally the breached-password check turned off (offline installs).
6. MinIO's bucket, policy and LobeChat's key verified (minio-init makes them)."""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lobestack.deployment import Deployment, load_deployment
from lobestack.deployment.envfile import update_env_file
from lobestack.errors import BadInput
from lobestack.probes.http import HttpProbe
from lobestack.provision import minio
from lobestack.provision.logto import M2M_ROLE, Logto, LogtoError, LogtoUnreachable, ManagementApi

ADMIN_USERNAME_ENV = "LOBESTACK_LOGTO_ADMIN_USERNAME"
ADMIN_PASSWORD_ENV = "LOBESTACK_LOGTO_ADMIN_PASSWORD"
TEST_USER_ENV = "LOBESTACK_TEST_USER"
TEST_PASSWORD_ENV = "LOBESTACK_TEST_PASSWORD"
APP_ID_KEY = "LOGTO_PROVISION_APP_ID"
APP_SECRET_KEY = "LOGTO_PROVISION_APP_SECRET"
PROVISION_APP_NAME = "lobestack provisioning"
LOBECHAT_APP_NAME = "LobeChat"
OFFLINE_FIRST_ADMIN = (
    "Logto answered 500 to the first admin's password: its breached-password check could not reach "
    "api.pwnedpasswords.com from the logto container (`docker compose logs logto` says 'fetch failed'). Logto "
    "applies that check to the console's first run and nothing public can turn it off before an admin exists: let "
    "the logto container reach api.pwnedpasswords.com for this one step, or create the first admin in the console "
    "from a network where it can (see docs/provision.md, 'Offline first admin'); then run provision again without "
    "--create-admin"
)


class ProvisionFailed(Exception):
    """A step could not be done: one line, exit 1."""


@dataclass(frozen=True)
class Options:
    create_admin: bool = False
    test_user: bool = False
    offline_passwords: bool = False
    plan: bool = False
    app_name: str = LOBECHAT_APP_NAME
    recreate: bool = True
    # The ephemeral stack leaves MinIO to the live layer's S3 checks (IDs, findings, fixes), not failing its start.
    verify_minio: bool = True


@dataclass
class Report:
    plan: bool
    lines: list[tuple[str, str, bool]] = field(default_factory=list)  # (subject, what, changed)
    env_changed: list[str] = field(default_factory=list)
    lobe_recreated: bool = False

    @property
    def changes(self) -> int:
        return sum(1 for _, _, changed in self.lines if changed)


def compose_recreate(root: Path, service: str, timeout_s: int = 180) -> Callable[[], None]:
    """Recreate one service of the deployment with its new .env (`docker compose up -d --no-deps --wait`)."""

    def run() -> None:
        result = subprocess.run(
            ["docker", "compose", "up", "-d", "--no-deps", "--wait", "--wait-timeout", str(timeout_s), service],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=timeout_s + 60,
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise ProvisionFailed(f"`docker compose up -d {service}` in {root} failed: {tail[0]}")

    return run


class Provisioner:
    def __init__(
        self,
        deployment: Deployment,
        http: HttpProbe,
        options: Options,
        *,
        env: Mapping[str, str] | None = None,
        recreate: Callable[[], None] | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.d = deployment
        self.options = options
        self.env = os.environ if env is None else env
        self.say = say
        self.report = Report(plan=options.plan)
        for key in ("LOGTO_ENDPOINT", "LOGTO_ADMIN_ENDPOINT", "APP_URL"):
            if not self.d.env.get(key):
                raise BadInput(f"{key} is empty: provisioning needs it", self.d.env.path, self.d.env.lines.get(key))
        self.logto = Logto(http, self.d.env.get("LOGTO_ENDPOINT"), self.d.env.get("LOGTO_ADMIN_ENDPOINT"))
        self.http = http
        lobe = self.d.lobe.name if self.d.lobe is not None else "lobe"
        self.recreate = recreate or compose_recreate(self.d.root, lobe)
        self.pending_env: dict[str, str] = {}

    # --- reporting --------------------------------------------------------------------------------------------------
    def note(self, subject: str, what: str, *, changed: bool = False) -> None:
        if changed and self.options.plan:
            what = "would " + what
        self.report.lines.append((subject, what, changed))
        self.say(f"  {subject:26} {what}")

    def _admin_credentials(self, why: str) -> tuple[str, str]:
        username, password = self.env.get(ADMIN_USERNAME_ENV, ""), self.env.get(ADMIN_PASSWORD_ENV, "")
        if not username or not password:
            raise BadInput(f"{why}: set {ADMIN_USERNAME_ENV} and {ADMIN_PASSWORD_ENV} (the Logto console's admin)")
        return username, password

    # --- the steps --------------------------------------------------------------------------------------------------
    def run(self) -> Report:
        has_admin = self._first_admin()
        api = self._management_api(has_admin)
        if api is None:  # --plan before the first admin exists: nothing can be read yet
            self.note("provisioning app", f"create {PROVISION_APP_NAME!r} (machine-to-machine)", changed=True)
            self.note("LobeChat app", f"create {self.options.app_name!r} (Traditional)", changed=True)
            self.note(".env", f"write {APP_ID_KEY}, {APP_SECRET_KEY}, AUTH_LOGTO_ID, AUTH_LOGTO_SECRET", changed=True)
            self.note("lobe", "recreate (AUTH_LOGTO_ID/SECRET change)", changed=True)
            if self.options.test_user:
                self.note("test user", f"create {self._test_user()[0]!r}", changed=True)
            if self.options.offline_passwords:
                self.note("breached-password check", "turn off (default tenant)", changed=True)
        else:
            self._lobechat_app(api)
            if self.options.test_user:
                self._test_user_step(api)
            if self.options.offline_passwords:
                self._breached_password_check(api)
            self._write_env()
        if self.options.verify_minio:
            self._minio()
        return self.report

    def _first_admin(self) -> bool:
        try:
            exists = self.logto.first_admin_exists()
        except LogtoUnreachable as exc:
            raise ProvisionFailed(f"cannot reach Logto's console: {exc}") from None
        except LogtoError as exc:
            raise ProvisionFailed(f"Logto's console did not answer as Logto does: {exc}") from None
        if exists:
            self.note("first admin", "exists")
            return True
        if not self.options.create_admin:
            raise BadInput(
                f"Logto at {self.logto.admin_endpoint} has no admin yet: give --create-admin (with "
                f"{ADMIN_USERNAME_ENV} and {ADMIN_PASSWORD_ENV}), or create one in its console first"
            )
        username, password = self._admin_credentials("--create-admin")
        self.note("first admin", f"create {username!r} (console {self.logto.admin_endpoint})", changed=True)
        if self.options.plan:
            return False
        try:
            self.logto.register_first_admin(username, password)
        except LogtoError as exc:
            if exc.status >= 500 and "/api/experience/profile" in str(exc):
                raise ProvisionFailed(OFFLINE_FIRST_ADMIN) from None
            if exc.code == "password.rejected":
                issues = ", ".join(str(i.get("code")) for i in exc.data or [] if isinstance(i, dict))
                rejected = issues or exc.message
                raise BadInput(f"Logto's password policy rejects {ADMIN_PASSWORD_ENV}: {rejected}") from None
            raise ProvisionFailed(f"creating the first admin: {exc}") from None
        except LogtoUnreachable as exc:
            raise ProvisionFailed(f"creating the first admin: {exc}") from None
        return True

    def _management_api(self, has_admin: bool) -> ManagementApi | None:
        app_id, app_secret = self.d.env.get(APP_ID_KEY), self.d.env.get(APP_SECRET_KEY)
        if app_id and app_secret:
            try:
                api = self.logto.management(self.logto.machine_token(app_id, app_secret))
                self.note("provisioning app", f"{PROVISION_APP_NAME!r} ({app_id}) from .env works")
                return api
            except LogtoError as exc:
                if exc.status not in (400, 401):
                    raise ProvisionFailed(f"Management API token: {exc}") from None
                self.say(f"  (.env's {APP_ID_KEY}/{APP_SECRET_KEY} are refused: {exc.code or exc.status})")
            except LogtoUnreachable as exc:
                raise ProvisionFailed(str(exc)) from None
        if not has_admin:
            return None  # --plan only: the admin does not exist yet
        username, password = self._admin_credentials(
            f"no working {APP_ID_KEY}/{APP_SECRET_KEY} in .env, so provisioning signs in as the console's admin"
        )
        try:
            api = self.logto.management(self.logto.admin_token(username, password))
        except LogtoError as exc:
            if exc.code in ("session.invalid_credentials", "auth.forbidden") or exc.status == 422:
                raise BadInput(
                    f"Logto refused the console admin's sign-in ({ADMIN_USERNAME_ENV}={username!r}, "
                    f"{ADMIN_PASSWORD_ENV}): {exc.code or exc.status}"
                ) from None
            raise ProvisionFailed(f"the console admin's Management API token: {exc}") from None
        except LogtoUnreachable as exc:
            raise ProvisionFailed(str(exc)) from None
        self._provisioning_app(api, app_id)
        return api

    def _provisioning_app(self, api: ManagementApi, known_id: str) -> None:
        try:
            roles = [r for r in api.roles("MachineToMachine") if r.get("name") == M2M_ROLE]
            if not roles:
                raise ProvisionFailed(
                    f"Logto has no machine-to-machine role {M2M_ROLE!r} (GET /api/roles?type=MachineToMachine): "
                    "create it in the console (Roles, machine-to-machine, the Logto Management API's `all` permission)"
                )
            role = roles[0]
            found = [a for a in api.applications("MachineToMachine") if a.get("name") == PROVISION_APP_NAME]
            app = next((a for a in found if a["id"] == known_id), found[0] if found else None)
            if app is None:
                self.note("provisioning app", f"create {PROVISION_APP_NAME!r} with role {M2M_ROLE!r}", changed=True)
                if self.options.plan:
                    return
                app = api.create_application(
                    {
                        "name": PROVISION_APP_NAME,
                        "type": "MachineToMachine",
                        "description": "lobestack provision: Logto Management API access",
                    }
                )
            else:
                self.note("provisioning app", f"reuse {PROVISION_APP_NAME!r} ({app['id']})")
            if role["id"] not in {r.get("id") for r in api.application_roles(app["id"])}:
                self.note("provisioning app", f"assign role {M2M_ROLE!r}", changed=True)
                if not self.options.plan:
                    api.assign_roles(app["id"], [role["id"]])
            secret = self._secret_of(api, app["id"], "")
            if not self.options.plan:
                self.logto.machine_token(app["id"], secret)  # the credentials work before they are kept
            self.pending_env.update({APP_ID_KEY: app["id"], APP_SECRET_KEY: secret})
        except LogtoError as exc:
            raise ProvisionFailed(f"provisioning app: {exc}") from None

    def _secret_of(self, api: ManagementApi, app_id: str, current: str) -> str:
        """The application's secret from /secrets (never the legacy `secret` field): the one .env has when it is
        there, else "Default secret", else the first unexpired one; a new one when there is none."""
        import time

        alive = [s for s in api.secrets(app_id) if not s.get("expiresAt") or s["expiresAt"] > time.time() * 1000]
        for choice in (
            next((s for s in alive if s.get("value") == current), None),
            next((s for s in alive if s.get("name") == "Default secret"), None),
            alive[0] if alive else None,
        ):
            if choice is not None:
                return str(choice["value"])
        self.note("application secret", f"create one for {app_id}", changed=True)
        if self.options.plan:
            return ""
        return str(api.create_secret(app_id, "lobestack")["value"])

    def _lobechat_app(self, api: ManagementApi) -> None:
        app_url = self.d.env.get("APP_URL").rstrip("/")
        callback = f"{app_url}/api/auth/callback/logto"
        name = self.options.app_name
        try:
            found = [a for a in api.applications("Traditional") if a.get("name") == name]
            current_id = self.d.env.get("AUTH_LOGTO_ID")
            app = next((a for a in found if a["id"] == current_id), found[0] if found else None)
            if len(found) > 1 and app is not None:
                self.say(f"  ({len(found)} Traditional applications are named {name!r}; this one is {app['id']})")
            wanted = {"redirectUris": [callback], "postLogoutRedirectUris": [app_url]}
            if app is None:
                self.note("LobeChat app", f"create {name!r} (Traditional, redirect URI {callback})", changed=True)
                if self.options.plan:
                    self.pending_env.update({"AUTH_LOGTO_ID": "(new)", "AUTH_LOGTO_SECRET": "(new)"})
                    return
                app = api.create_application({"name": name, "type": "Traditional", "oidcClientMetadata": wanted})
            else:
                metadata = app.get("oidcClientMetadata") or {}
                seen = {k: metadata.get(k) for k in wanted}
                if seen != wanted:
                    self.note(
                        "LobeChat app",
                        f"repair {name!r} ({app['id']}): redirect URIs {seen['redirectUris']} -> {[callback]}, "
                        f"post sign-out {seen['postLogoutRedirectUris']} -> {[app_url]}",
                        changed=True,
                    )
                    if not self.options.plan:
                        api.update_application(app["id"], {"oidcClientMetadata": {**metadata, **wanted}})
                else:
                    self.note("LobeChat app", f"{name!r} ({app['id']}) redirects to {callback}")
            secret = self._secret_of(api, app["id"], self.d.env.get("AUTH_LOGTO_SECRET"))
        except LogtoError as exc:
            raise ProvisionFailed(f"LobeChat's application: {exc}") from None
        self.pending_env.update({"AUTH_LOGTO_ID": app["id"], "AUTH_LOGTO_SECRET": secret})

    def _test_user(self) -> tuple[str, str]:
        username, password = self.env.get(TEST_USER_ENV, ""), self.env.get(TEST_PASSWORD_ENV, "")
        if not username or not password:
            raise BadInput(f"--test-user: set {TEST_USER_ENV} and {TEST_PASSWORD_ENV}")
        return username, password

    def _test_user_step(self, api: ManagementApi) -> None:
        username, password = self._test_user()
        try:
            if api.users_named(username):
                self.note("test user", f"{username!r} exists (its password is left as it is)")
                return
            self.note("test user", f"create {username!r}", changed=True)
            if not self.options.plan:
                api.create_user({"username": username, "password": password, "name": username})
        except LogtoError as exc:
            raise ProvisionFailed(f"test user: {exc}") from None

    def _breached_password_check(self, api: ManagementApi) -> None:
        try:
            policy = copy.deepcopy(api.sign_in_experience().get("passwordPolicy") or {})
            if (policy.get("rejects") or {}).get("pwned", True) is False:
                self.note("breached-password check", "off (default tenant)")
                return
            self.note(
                "breached-password check",
                "turn off in the default tenant's password policy (sign-up and password resets stop calling "
                "api.pwnedpasswords.com; length, character and repetition rules stay)",
                changed=True,
            )
            if not self.options.plan:
                policy.setdefault("rejects", {})["pwned"] = False
                api.update_sign_in_experience({"passwordPolicy": policy})
        except LogtoError as exc:
            raise ProvisionFailed(f"password policy: {exc}") from None

    def _write_env(self) -> None:
        path = self.d.env.path
        changed = [k for k, v in self.pending_env.items() if self.d.env.get(k) != v]
        if not changed:
            self.note(".env", "up to date")
            return
        self.note(".env", f"write {', '.join(changed)}", changed=True)
        lobe = self.d.lobe.name if self.d.lobe is not None else "lobe"
        lobe_changes = {"AUTH_LOGTO_ID", "AUTH_LOGTO_SECRET"} & set(changed)
        if lobe_changes:
            if self.options.recreate:
                self.note(lobe, f"recreate ({', '.join(sorted(lobe_changes))} changed)", changed=True)
            else:
                self.note(lobe, f"not recreated: run `docker compose up -d {lobe}` (its AUTH_LOGTO_* changed)")
        if self.options.plan:
            return
        self.report.env_changed = update_env_file(
            path, self.pending_env, comment="written by lobestack provision (Logto's applications)"
        )
        self.d = load_deployment(self.d.root)
        if lobe_changes and self.options.recreate:
            self.recreate()
            self.report.lobe_recreated = True

    def _minio(self) -> None:
        problems = list(minio.verify(self.d, self.http))
        if problems:
            raise ProvisionFailed(f"MinIO: {'; '.join(problems)} — {minio.FIX}")
        bucket = self.d.app_env("S3_BUCKET") or "lobe"
        acl = "anonymous read" if (self.d.app_env("S3_SET_ACL") or "1") == "1" else "private"
        self.note("MinIO", f"bucket {bucket!r} ({acl}) and LobeChat's key work")


def provision(
    root: Path,
    http: HttpProbe,
    options: Options,
    *,
    env: Mapping[str, str] | None = None,
    recreate: Callable[[], None] | None = None,
    say: Callable[[str], None] = print,
) -> Report:
    """Provision the running deployment at `root` (see the module's docstring); returns what was (or would be) done."""
    deployment = load_deployment(root)
    return Provisioner(deployment, http, options, env=env, recreate=recreate, say=say).run()


def describe(report: Report) -> str:
    if report.plan:
        return f"plan: {report.changes} change(s); nothing was written" if report.changes else "plan: nothing to change"
    return f"{report.changes} change(s) made" if report.changes else "nothing to change"
