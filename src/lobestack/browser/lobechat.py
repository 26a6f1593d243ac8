"""LobeChat 1.x as the browser meets it: the page object of every LobeChat page and call the flows use. LobeChat's
CSS classes are generated (antd): only URLs, visible text and `name` attributes are relied on, so a LobeChat UI
change is a fix in this one module.

- `/next-auth/signin?callbackUrl=…`: a client page with one button per provider, its text the provider id ("logto",
  capitalised by CSS) after the provider's icon, an SVG whose `<title>` is "Logto"
  (src/app/[variants]/(auth)/next-auth/signin/AuthSignInBox.tsx, src/components/NextAuth/AuthIcons.tsx): its
  accessible name has the word twice ("Logto logto"), the stand-in's once. It must settle before the click: a click
  before the page fetched its CSRF token ends on `?error=MissingCSRF` (seen on LobeChat 1.143.3).
- `/next-auth/error?error=<code>`: Auth.js's error (`Configuration` for every server-side failure).
- `/api/auth/session`: `{"user": {"name", "id", …}, "expires"}` when signed in, else null/{}.
- The upload, as LobeChat's own client does it from a signed-in page (src/services/upload.ts,
  src/store/file/slices/upload/action.ts, src/services/rag.ts): tRPC mutations over `httpBatchLink` with superjson
  (`POST /trpc/lambda/<procedure>?batch=1`, body `{"0":{"json":<input>}}`), and the file PUT by XMLHttpRequest
  straight to the presigned URL on S3_ENDPOINT (cross-origin: CORS applies), with its Content-Type."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

SIGN_IN_PATH = "/next-auth/signin"
ERROR_PATH = "/next-auth/error"
# the provider's name as a word of the button's accessible name (the real button's is "Logto logto": icon + text)
LOGTO_BUTTON = re.compile(r"^(\s*logto\b)+\s*$", re.IGNORECASE)

# A tRPC mutation as lambdaClient sends it; answers what came back, unparsed (the Python side reads the batch).
_TRPC = """async ({procedure, input}) => {
  const response = await fetch(`/trpc/lambda/${procedure}?batch=1`, {
    method: 'POST', credentials: 'same-origin', headers: {'content-type': 'application/json'},
    body: JSON.stringify({0: {json: input}}),
  });
  return {status: response.status, text: await response.text()};
}"""

# uploadService.uploadToServerS3: XMLHttpRequest PUT with the file's Content-Type; status 0 is a network error
# (CORS refusal included: the reason only reaches the console).
_PUT = """({url, text, type}) => new Promise((resolve) => {
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', url);
  xhr.setRequestHeader('Content-Type', type);
  xhr.addEventListener('load', () => resolve({status: xhr.status, body: String(xhr.responseText).slice(0, 600)}));
  xhr.addEventListener('error', () => resolve({status: xhr.status, body: ''}));
  xhr.send(new Blob([text], {type}));
})"""

_SESSION = """async () => {
  const response = await fetch('/api/auth/session', {credentials: 'same-origin'});
  return {status: response.status, text: await response.text()};
}"""


@dataclass(frozen=True)
class TrpcAnswer:
    """One procedure's answer from a tRPC batch: its data (superjson's `json`), or its error."""

    status: int
    data: Any = None
    error: str = ""  # the error's message, e.g. "File content is empty"
    code: str = ""  # the tRPC code, e.g. BAD_REQUEST
    raw: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error

    def describe(self) -> str:
        if self.error:
            return f"{self.status} {self.code} {self.error!r}"
        return f"{self.status} {self.raw[:200]!r}"


def parse_batch(status: int, text: str) -> TrpcAnswer:
    """The first entry of a tRPC batch answer (`[{"result":{"data":{"json":…}}}]` or `[{"error":{"json":…}}]`)."""
    try:
        batch = json.loads(text)
    except json.JSONDecodeError:
        return TrpcAnswer(status, error=f"not a tRPC answer: {text[:200]!r}", code="?", raw=text)
    entry = batch[0] if isinstance(batch, list) and batch else batch
    if not isinstance(entry, dict):
        return TrpcAnswer(status, error=f"not a tRPC answer: {text[:200]!r}", code="?", raw=text)
    if "error" in entry:
        shape = (entry["error"] or {}).get("json") or {}
        data = shape.get("data") or {}
        return TrpcAnswer(status, error=str(shape.get("message", "")), code=str(data.get("code", "")), raw=text)
    data = ((entry.get("result") or {}).get("data") or {}).get("json")
    return TrpcAnswer(status, data=data, raw=text)


class LobeChat:
    """LobeChat at APP_URL, in one browser page."""

    def __init__(self, page: Any, app_url: str) -> None:
        self.page = page
        self.app_url = app_url.rstrip("/")

    # --- where the browser is --------------------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        parts = urlsplit(self.app_url)
        return f"{parts.scheme}://{parts.netloc}"

    def owns(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def sign_in_url(self, callback_path: str = "/chat") -> str:
        return f"{self.app_url}{SIGN_IN_PATH}?callbackUrl={quote(self.app_url + callback_path, safe='')}"

    def auth_error(self, url: str) -> str | None:
        """Auth.js's error code when `url` is LobeChat's error page or its sign-in page with `?error=`."""
        parts = urlsplit(url)
        if not self.owns(url) or parts.path not in (ERROR_PATH, SIGN_IN_PATH):
            return None
        return (parse_qs(parts.query).get("error") or [None])[0] or ("Default" if parts.path == ERROR_PATH else None)

    def on_chat(self, url: str) -> bool:
        return self.owns(url) and (urlsplit(url).path == "/chat" or urlsplit(url).path.startswith("/chat/"))

    # --- the sign-in page ------------------------------------------------------------------------------------------
    def logto_button(self) -> Any:
        return self.page.get_by_role("button", name=LOGTO_BUTTON)

    def open_sign_in(self, timeout_ms: float) -> Any:
        """Open the sign-in page and wait until it has settled (its CSRF token fetched); the main response."""
        response = self.page.goto(self.sign_in_url(), wait_until="load", timeout=timeout_ms)
        self.page.wait_for_load_state("networkidle", timeout=timeout_ms)
        return response

    # --- calls from a signed-in page -------------------------------------------------------------------------------
    def session(self) -> tuple[int, Any]:
        answer = self.page.evaluate(_SESSION)
        try:
            return answer["status"], json.loads(answer["text"] or "null")
        except json.JSONDecodeError:
            return answer["status"], answer["text"][:200]

    def mutate(self, procedure: str, data: dict[str, Any]) -> TrpcAnswer:
        answer = self.page.evaluate(_TRPC, {"procedure": procedure, "input": data})
        return parse_batch(answer["status"], answer["text"])

    def put_file(self, url: str, text: str, content_type: str) -> tuple[int, str]:
        answer = self.page.evaluate(_PUT, {"url": url, "text": text, "type": content_type})
        return answer["status"], answer["body"]
