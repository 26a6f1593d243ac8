"""Secret values from the deployment never reach a log, report, trace or screenshot: they become `***`.

Not only whole values: any run of MIN_SECRET_LENGTH or more characters of a secret is masked, so that a part of a
secret (a password that an `@` split out of DATABASE_URL, a value cut short by a message) cannot leave either."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

MASK = "***"
# Values this short would mask ordinary words; a secret this short is flagged by ENV-SECRET-STRENGTH anyway.
MIN_SECRET_LENGTH = 6


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        # Every substring of MIN_SECRET_LENGTH characters of every secret: a text position that starts one of them
        # is inside a (part of a) secret. Overlapping and adjacent pieces are masked as one.
        self._pieces: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if not secret or len(secret) < MIN_SECRET_LENGTH or secret in self._secrets:
                continue
            self._secrets.add(secret)
            self._pieces.update(secret[i : i + MIN_SECRET_LENGTH] for i in range(len(secret) - MIN_SECRET_LENGTH + 1))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        if not self._pieces or not text or len(text) < MIN_SECRET_LENGTH:
            return text
        pieces, size = self._pieces, MIN_SECRET_LENGTH
        out: list[str] = []
        kept = 0  # text[kept:] is not yet copied to out
        masked_to = -1  # end of the masked run in progress
        for i in range(len(text) - size + 1):
            if text[i : i + size] not in pieces:
                continue
            if i > masked_to:  # a new run: copy what lies before it, then the mask
                out.append(text[kept:i])
                out.append(MASK)
            masked_to = i + size
            kept = masked_to
        if not out:
            return text
        out.append(text[kept:])
        return "".join(out)

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
