"""What the e2e checks run on: one launched browser for one target. Each flow gets a fresh browser context (a
signed-out visitor; the upload flow reuses the session E2E-SIGNIN signed in with, or signs in itself), a recorder,
and, when it fails, its artifacts under `<report dir>/e2e/<check ID>/`. Every password the flows type is masked
in whatever the run writes."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lobestack.browser import flows
from lobestack.browser.recording import Artifacts, FlowRecorder
from lobestack.redaction import Redactor

VIEWPORT = {"width": 1280, "height": 900}
NETWORK_CHANGED = "ERR_NETWORK_CHANGED"


@dataclass
class FlowResult:
    check_id: str
    failure: flows.FlowFailure | None = None
    artifacts: Artifacts | None = None
    steps: list[str] = field(default_factory=list)  # the steps the flow went through
    console: list[str] = field(default_factory=list)  # the pages' console messages (`type: text`)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per finished step
    network_changed: bool = False  # it failed while the host's network changed under the browser
    retried: bool = False  # this is the second run, after a first that failed that way

    def message(self) -> str:
        if self.failure is None:
            return ""
        text = str(self.failure)
        if self.artifacts is not None:
            text += f"\n  final URL: {self.artifacts.final_url}\n  artifacts: {self.artifacts.names()}"
        return text


class BrowserSession:
    """A browser for one target: the subject of the e2e checks (`capabilities` and `why_not` as a target's)."""

    def __init__(self, target: Any, browser: Any, report_dir: Path, redactor: Redactor | None = None) -> None:
        self.target = target
        self.browser = browser
        self.report_dir = report_dir
        self.redactor = redactor if redactor is not None else Redactor()
        self.redactor.add(target.accounts().passwords)
        self.results: dict[str, FlowResult] = {}
        self.storage_state: dict[str, Any] | None = None  # the signed-in session of E2E-SIGNIN, for the upload
        self.typed_secrets: set[str] = set()
        self.init_scripts: list[str] = []  # run in every page of every flow (the benchmark times page loads so)

    @property
    def deployment(self) -> Any:
        return self.target.deployment

    @property
    def capabilities(self) -> frozenset[str]:
        return self.target.capabilities

    def why_not(self, need: str) -> str:
        return self.target.why_not(need)

    def typed(self, secret: str) -> None:
        """A password a flow is about to type: masked in everything the run writes from now on."""
        self.typed_secrets.add(secret)
        self.redactor.add([secret])

    def run(
        self, check_id: str, flow: Callable[[flows.Flow], None], *, signed_in: bool = False, keep_session: bool = False
    ) -> FlowResult:
        """Run `flow` in a fresh context (with the stored session when `signed_in`); keep its artifacts on failure,
        and its session (for later flows) on success when `keep_session`.

        A flow that failed because the host's network changed under the browser (`net::ERR_NETWORK_CHANGED`:
        Chromium aborts what is in flight whenever an interface comes or goes, as Docker's do when containers
        start) runs once more, as a person would reload; any other failure stands."""
        result = self._run_once(check_id, flow, signed_in=signed_in, keep_session=keep_session)
        if result.failure is not None and result.network_changed:
            result = self._run_once(check_id, flow, signed_in=signed_in, keep_session=keep_session)
            result.retried = True
        self.results[check_id] = result
        return result

    def _run_once(
        self, check_id: str, flow: Callable[[flows.Flow], None], *, signed_in: bool, keep_session: bool
    ) -> FlowResult:
        context = self.browser.new_context(viewport=VIEWPORT, storage_state=self.storage_state if signed_in else None)
        workdir = Path(tempfile.mkdtemp(prefix="lobestack-flow-"))
        result = FlowResult(check_id)
        try:
            for script in self.init_scripts:
                context.add_init_script(script)
            page = context.new_page()
            recorder = FlowRecorder(context, page, workdir, check_id, self.redactor)
            recorder.start()
            run = flows.Flow(self, context, page, recorder)
            try:
                flow(run)
            except flows.FlowFailure as failure:
                result.failure = failure
                result.artifacts = recorder.keep(self.report_dir / "e2e" / check_id, self.report_dir)
                result.network_changed = NETWORK_CHANGED in str(failure) or any(
                    NETWORK_CHANGED in error for _, _, error in recorder.failed_requests
                )
            else:
                recorder.discard()
                if keep_session:
                    self.storage_state = context.storage_state()
            result.steps, result.console, result.timings = run.taken, list(recorder.console), dict(run.timings)
        finally:
            with contextlib.suppress(Exception):
                context.close()
            shutil.rmtree(workdir, ignore_errors=True)
        return result

    def sign_in_once(self) -> FlowResult | None:
        """Sign in (without the wrong-password step) and keep the session, unless one is kept already."""
        if self.storage_state is not None:
            return None
        return self.run("sign-in", lambda f: flows.sign_in(f, refuse_wrong_password=False), keep_session=True)
