"""gift_card_codes.csv: the codes of gift cards nobody is sent, written once, readable by the owner only.

A gift card code is a bearer credential. Shopify gives it once, in giftCardCreate's answer; when the row
said notify no, nobody else will ever see it, so it is written here (and in no other file of the run:
the journal and reports keep the last characters). Delete the file after the mail merge.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path

CODES_FILE = "gift_card_codes.csv"
HEADER = ("order", "customer_email", "code", "amount", "currency")


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """One unsent gift card: the order it refunds, who it is for, its code and value."""

    order: str
    customer_email: str
    code: str
    amount: str
    currency: str


def _line(values: tuple[str, ...]) -> bytes:
    out = io.StringIO()
    # Shop data never starts a cell with a formula character (SPEC §8's rule for files a person opens).
    safe = tuple("'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v for v in values)
    csv.writer(out, lineterminator="\r\n").writerow(safe)
    return out.getvalue().encode("utf-8")


class CodesFile:
    """Appends one row per code as the cards are created; thread-safe, mode 0600 from its creation."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / CODES_FILE
        self._lock = threading.Lock()

    def add(self, issued: IssuedCode) -> None:
        with self._lock:
            # Created 0600 (never readable by others, not even for a moment); the umask cannot widen it.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.fchmod(fd, 0o600)
                if os.fstat(fd).st_size == 0:
                    os.write(fd, _line(HEADER))
                os.write(fd, _line((issued.order, issued.customer_email, issued.code, issued.amount,
                                    issued.currency)))  # fmt: skip
            finally:
                os.close(fd)
