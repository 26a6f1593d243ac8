"""Logto 1.x as the browser meets it: the page object of its sign-in experience and its admin console. Logto's
class names are hashed: only URLs, visible text, `name` attributes and roles are relied on (seen on a real Logto
1.37.1), so a Logto UI change is a fix in this one module.

- Sign-in (`/sign-in`): `input[name=identifier]`, `input[name=password]`, `button[name=submit]`; errors in
  `[role=alert]`.
- Errors of its OIDC routes (`/oidc/auth` …): a JSON body, `{"code": "oidc.invalid_client", "message": …,
  "error": …, "error_description": …}`, shown as the page.
- `/unknown-session`: the experience app without a sign-in session (e.g. the console origin served by the default
  tenant).
- The console on ADMIN_ENDPOINT: first run `/console/welcome` → "Create account" → `/register`
  (`identifier`, submit) → `/register/password` (`newPassword`, `confirmPassword`, submit) → `/console/…`; once an
  administrator exists, `/console` asks for the sign-in (`/sign-in`, as above) instead."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

IDENTIFIER = "input[name=identifier]"
PASSWORD = "input[name=password]"
SUBMIT = "button[name=submit]"
ALERT = "[role=alert]"
NEW_PASSWORD = "input[name=newPassword]"
CONFIRM_PASSWORD = "input[name=confirmPassword]"
CREATE_ACCOUNT = re.compile(r"create account", re.IGNORECASE)
UNKNOWN_SESSION_PATH = "/unknown-session"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Logto:
    """Logto's pages in one browser page."""

    def __init__(self, page: Any) -> None:
        self.page = page

    # --- what is showing -------------------------------------------------------------------------------------------
    def visible(self, selector: str) -> bool:
        try:
            return self.page.locator(selector).first.is_visible()
        except Exception:  # the page is navigating
            return False

    def shows_sign_in(self) -> bool:
        return self.visible(IDENTIFIER) and self.visible(PASSWORD)

    def shows_register(self) -> bool:
        return self.visible(IDENTIFIER) and not self.visible(PASSWORD) and "/register" in self.page.url

    def shows_new_password(self) -> bool:
        return self.visible(NEW_PASSWORD)

    def shows_welcome(self) -> bool:
        return self.create_account().count() > 0 and self.create_account().first.is_visible()

    def create_account(self) -> Any:
        return self.page.get_by_role("link", name=CREATE_ACCOUNT).or_(
            self.page.get_by_role("button", name=CREATE_ACCOUNT)
        )

    def alert(self) -> str:
        """The text of Logto's error message on the page, or ""."""
        try:
            alerts = self.page.locator(ALERT)
            texts = [alerts.nth(i).inner_text(timeout=1000).strip() for i in range(alerts.count())]
        except Exception:
            return ""
        return " / ".join(t for t in texts if t)

    def error_json(self) -> dict[str, Any] | None:
        """Logto's OIDC error body when the page is one (`{"code": "oidc.…", "message": …}`)."""
        try:
            text = self.page.locator("body").inner_text(timeout=2000).strip()
        except Exception:
            return None
        if not text.startswith("{"):
            return None
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            return None
        return body if isinstance(body, dict) and ("code" in body or "error" in body) else None

    def on_unknown_session(self) -> bool:
        return urlsplit(self.page.url).path == UNKNOWN_SESSION_PATH

    # --- acting (credentials are typed by the caller inside FlowRecorder.unrecorded) -------------------------------
    def sign_in(self, username: str, password: str) -> None:
        self.page.locator(IDENTIFIER).first.fill(username)
        self.page.locator(PASSWORD).first.fill(password)
        self.page.locator(SUBMIT).first.click()

    def register(self, username: str) -> None:
        self.page.locator(IDENTIFIER).first.fill(username)
        self.page.locator(SUBMIT).first.click()

    def set_password(self, password: str) -> None:
        self.page.locator(NEW_PASSWORD).first.fill(password)
        self.page.locator(CONFIRM_PASSWORD).first.fill(password)
        self.page.locator(SUBMIT).first.click()

    def in_console(self, admin_origin: str) -> bool:
        """In the console proper: on the console origin under /console, past its first run and its sign-in, with the
        console's own app running."""
        url = self.page.url
        path = urlsplit(url).path
        return (
            origin_of(url) == admin_origin
            and (path == "/console" or path.startswith("/console/"))
            and path != "/console/welcome"
            and not self.visible(IDENTIFIER)
            and self.runs_console_app()
        )

    def runs_console_app(self) -> bool:
        """The page runs the console's single-page app, whose scripts are under /console/ (its assets). A URL alone
        does not tell: when the console origin is served by the default tenant (seen on real Logto 1.37.1 with
        ADMIN_ENDPOINT = ENDPOINT), /console answers 200 with the sign-in app's shell (scripts under /assets/),
        which renders nothing there."""
        try:
            return bool(
                self.page.evaluate(
                    "() => [...document.scripts].some(s => s.src && "
                    "new URL(s.src, location.href).pathname.startsWith('/console/'))"
                )
            )
        except Exception:  # the page is navigating: not (yet) the console
            return False
