"""What a flow leaves behind when it fails: a Playwright trace (in parts), a screenshot, the final URL and the
pages the browser went through. Nothing is kept when the flow passes.

Passwords never reach the trace: Playwright records every action's arguments (a `fill` value), DOM snapshots
(a password field's value) and request bodies (a sign-in form's POST), so tracing is stopped while credentials are
typed and submitted (`unrecorded`), password fields are emptied before it starts again, and the trace comes in
parts, one per stretch of the flow that was recorded. The screenshot shows password fields as dots; no video is
made. Text artifacts are written through the run's redactor as well."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLEAR_PASSWORDS = "for (const input of document.querySelectorAll('input[type=password]')) input.value = ''"


@dataclass
class Artifacts:
    """Files a failed flow left, relative to the report directory (links in report.html, names in summary.json)."""

    root: Path
    traces: list[Path] = field(default_factory=list)
    screenshot: Path | None = None
    final_url: str = ""
    others: list[Path] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [*self.traces, *([self.screenshot] if self.screenshot else []), *self.others]

    def names(self) -> str:
        return ", ".join(str(p) for p in self.files)


class FlowRecorder:
    """Records one flow of one browser context: its trace, and (always, outside the trace too) the main frame's
    navigations, the console's messages and failed requests, which the diagnosis reads."""

    def __init__(self, context: Any, page: Any, workdir: Path, title: str, redact: Callable[[str], str]) -> None:
        self.context = context
        self.page = page
        self.workdir = workdir
        self.title = title
        self.redact = redact
        self.parts: list[Path] = []
        self.navigations: list[tuple[int, str]] = []  # (status, URL) of each main-frame document
        self.console: list[str] = []
        self.failed_requests: list[tuple[str, str, str]] = []  # (method, URL, Chromium's error)
        self._tracing = False
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("response", self._on_response)
        page.on("requestfailed", lambda r: self.failed_requests.append((r.method, r.url, r.failure or "?")))

    def _on_response(self, response: Any) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.navigations.append((response.status, response.url))

    def start(self) -> None:
        self.context.tracing.start(screenshots=True, snapshots=True, title=self.title)
        self._tracing = True

    def _stop_part(self) -> None:
        if self._tracing:
            path = self.workdir / f"trace-{len(self.parts) + 1}.zip"
            self.context.tracing.stop(path=str(path))
            self.parts.append(path)
            self._tracing = False

    @contextlib.contextmanager
    def unrecorded(self) -> Iterator[None]:
        """A stretch of the flow the trace must not see (typing and submitting a password)."""
        self._stop_part()
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # the page may be navigating; nothing typed stays in a field
                self.page.evaluate(CLEAR_PASSWORDS)
            self.start()

    def keep(self, directory: Path, report_dir: Path) -> Artifacts:
        """The flow failed: move its trace parts to `directory`, add a screenshot, the final URL and the pages it
        went through (text, redacted)."""
        self._stop_part()
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        found = Artifacts(root=directory)
        for part in self.parts:
            target = directory / part.name
            shutil.move(str(part), target)
            found.traces.append(target.relative_to(report_dir))
        final_url = self.redact(self.page.url)
        found.final_url = final_url
        with contextlib.suppress(Exception):  # a crashed page has no screenshot; the rest still helps
            self.page.evaluate(CLEAR_PASSWORDS)
            self.page.screenshot(path=str(directory / "screenshot.png"), full_page=True, timeout=5000)
            found.screenshot = (directory / "screenshot.png").relative_to(report_dir)
        (directory / "final-url.txt").write_text(final_url + "\n", encoding="utf-8")
        lines = [f"{status} {url}" for status, url in self.navigations]
        lines += [f"FAILED {method} {url}: {error}" for method, url, error in self.failed_requests]
        lines += [f"console {text}" for text in self.console]
        (directory / "pages.txt").write_text(self.redact("\n".join(lines)) + "\n", encoding="utf-8")
        found.others += [(directory / n).relative_to(report_dir) for n in ("final-url.txt", "pages.txt")]
        return found

    def discard(self) -> None:
        if self._tracing:
            self.context.tracing.stop()
            self._tracing = False
        for part in self.parts:
            part.unlink(missing_ok=True)


def now_rfc3339() -> str:
    """The current time as `docker logs --since` takes it (UTC, milliseconds)."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"
