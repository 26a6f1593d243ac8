"""Secret values from the deployment's .env never reach a log, report, trace or screenshot: they become `***`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

MASK = "***"
# Values this short would mask ordinary words; a secret this short is flagged by ENV-SECRET-STRENGTH anyway.
MIN_SECRET_LENGTH = 6


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        new = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH} - self._secrets
        if not new:
            return
        self._secrets |= new
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def scrub_file(self, path: Path) -> bool:
        """Mask secrets in a text file in place; True when something was masked."""
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            return False
        clean = self(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            return True
        return False
