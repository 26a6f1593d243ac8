"""The browser flows (the e2e layer): Debian's Chromium driven by Playwright, reaching the stack's public names
through its Nginx and trusting its CA as a person's browser would.

- chromium.py: how Chromium is launched for a target (names, trust store, no way out);
- recording.py: a flow's trace, screenshot, final URL and navigation log, kept only when the flow fails, with
  every password typed outside the trace;
- lobechat.py, logto.py: the page objects, one module per application (URLs, visible text, `name` attributes);
- diagnosis.py: why a flow failed, from the stack's own evidence (Logto's error JSON, LobeChat's log, discovery);
- flows.py: the flows themselves, step by step; session.py: what the e2e checks run on."""
