"""Debian's Chromium as the flows launch it: the pinned names reach the stack, the CA is trusted through the
throwaway NSS database (and only through it: certificate errors stay errors), nothing else resolves, and a
flow's trace never holds what was typed in a password field or posted with it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lobestack.browser.chromium import CI_ARGS, browser_home, launch_options, resolver_rules
from lobestack.browser.recording import FlowRecorder
from tests.browser.conftest import Site, SiteTarget

SECRET = "pw-Do-Not-Record-7f3a9c"


def test_resolver_rules_pin_names_and_close_the_world() -> None:
    pins = {"lobe.test": "127.0.0.1", "auth.test": "127.0.0.1"}
    assert resolver_rules(pins, only_pinned=True) == "MAP auth.test 127.0.0.1, MAP lobe.test 127.0.0.1, MAP * ~NOTFOUND"
    assert resolver_rules(pins, only_pinned=False) == "MAP auth.test 127.0.0.1, MAP lobe.test 127.0.0.1"


def test_launch_options_use_debian_chromium_and_a_throwaway_home(site: Site, tmp_path: Path) -> None:
    home = browser_home(SiteTarget(site.ca_file), tmp_path / "home")
    options = launch_options(SiteTarget(site.ca_file), home)
    assert options["executable_path"] == "/usr/bin/chromium"
    assert set(CI_ARGS) <= set(options["args"]) and "--no-proxy-server" in options["args"]
    assert options["env"]["HOME"] == str(home)
    assert (home / ".pki" / "nssdb" / "cert9.db").is_file()
    assert not any(arg.startswith("--ignore-certificate-errors") for arg in options["args"])


def test_the_ca_is_trusted_through_the_nss_database_only(playwright, site: Site, tmp_path: Path) -> None:
    trusted = playwright.chromium.launch(
        **launch_options(SiteTarget(site.ca_file), browser_home(SiteTarget(site.ca_file), tmp_path / "trusted"))
    )
    try:
        page = trusted.new_page()
        assert page.goto(site.url).status == 200
        with pytest.raises(Exception, match="ERR_NAME_NOT_RESOLVED"):
            page.goto("https://elsewhere.example/")  # only the pinned names resolve
    finally:
        trusted.close()
    untrusting = playwright.chromium.launch(
        **launch_options(SiteTarget(None), browser_home(SiteTarget(None), tmp_path / "untrusting"))
    )
    try:
        with pytest.raises(Exception, match="ERR_CERT_AUTHORITY_INVALID"):
            untrusting.new_page().goto(site.url)
    finally:
        untrusting.close()


def test_passwords_stay_out_of_the_trace(playwright, site: Site, tmp_path: Path) -> None:
    """Typed and submitted inside `unrecorded`: no trace part holds the password (actions, DOM snapshots, the
    POST body), while the stretches before and after are recorded."""
    browser = playwright.chromium.launch(
        **launch_options(SiteTarget(site.ca_file), browser_home(SiteTarget(site.ca_file), tmp_path / "home"))
    )
    try:
        context = browser.new_context()
        page = context.new_page()
        recorder = FlowRecorder(context, page, tmp_path, "test", lambda text: text)
        recorder.start()
        page.goto(site.url)
        page.fill("input[name=identifier]", "someone")
        with recorder.unrecorded():
            page.fill("input[name=password]", SECRET)
            page.click("button[name=submit]")
            page.wait_for_selector("[role=alert]")
        page.goto(site.url)
        page.fill("input[name=password]", "")  # a recorded action after the secret was typed
        artifacts = recorder.keep(tmp_path / "kept", tmp_path)
    finally:
        browser.close()
    assert [p.name for p in artifacts.traces] == ["trace-1.zip", "trace-2.zip"]
    for trace in artifacts.traces:
        with zipfile.ZipFile(tmp_path / trace) as archive:
            assert "trace.trace" in archive.namelist()
            assert not [n for n in archive.namelist() if SECRET.encode() in archive.read(n)], trace
    pages = (tmp_path / "kept" / "pages.txt").read_text()
    assert f"200 {site.url}" in pages and SECRET not in pages


def test_a_flow_runs_again_only_when_the_network_changed_under_the_browser(playwright, site: Site, tmp_path) -> None:
    """Chromium aborts what is in flight when an interface comes or goes (Docker's, as containers start):
    `net::ERR_NETWORK_CHANGED` gets one more run; any other failure stands at once."""
    from lobestack.browser.flows import FlowFailure
    from lobestack.browser.session import BrowserSession

    target = SiteTarget(site.ca_file)
    browser = playwright.chromium.launch(**launch_options(target, browser_home(target, tmp_path / "home")))
    attempts: list[int] = []

    def flaky(flow) -> None:
        attempts.append(1)
        flow.page.goto(site.url)
        if len(attempts) == 1:
            raise FlowFailure("the page", "net::ERR_NETWORK_CHANGED")

    def broken(flow) -> None:
        attempts.append(1)
        raise FlowFailure("the page", "net::ERR_CERT_AUTHORITY_INVALID")

    try:
        session = BrowserSession(target, browser, tmp_path / "reports")
        result = session.run("E2E-TEST", flaky)
        assert (result.failure, result.retried, len(attempts)) == (None, True, 2)
        attempts.clear()
        result = session.run("E2E-TEST", broken)
        assert result.failure is not None and not result.retried and len(attempts) == 1
        assert (tmp_path / "reports" / "e2e" / "E2E-TEST" / "trace-1.zip").is_file()
    finally:
        browser.close()
