"""The browser layer (e2e): flows a person goes through, in Chromium, against a running stack."""
