"""Users and HTTP basic authentication for `ksql server`.

Passwords are kept as scrypt hashes. Checking one costs ~50 ms of CPU and 16 MB on purpose, so
it never runs on the event loop: a small pool of its own does it, successful checks are
remembered for a minute, and an address that keeps failing is turned away for a while without
any hashing, so wrong passwords cannot slow the server down for everyone else.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

REMEMBER_SECONDS = 60.0  # a successful check is remembered this long
MAX_FAILURES = 10  # failed checks from one address within FAILURE_WINDOW before it is turned away
FAILURE_WINDOW = 60.0
HASHING_THREADS = 2


def hash_password(password: str, salt: bytes | None = None) -> str:
    """scrypt, with a random salt: 'scrypt$<salt hex>$<hash hex>'."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2 ** 14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, salt, _ = stored.split("$")
        return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)
    except ValueError:
        return False


def load_users(path: str) -> dict[str, str]:
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and ":" in line:
                name, _, stored = line.partition(":")
                users[name] = stored
    return users


def credentials(header: bytes) -> tuple[str, str] | None:
    """(user, password) of a basic Authorization header; None when it is not one (also when
    it is not ASCII or not base64 of UTF-8)."""
    try:
        text = header.decode("ascii")
        if not text.startswith("Basic "):
            return None
        user, colon, password = base64.b64decode(text[6:], validate=True).decode("utf-8").partition(":")
    except (UnicodeDecodeError, binascii.Error, ValueError):
        return None
    return (user, password) if colon else None


class Authenticator:
    """Checks credentials off the event loop, remembers good ones briefly, and turns away an
    address after `max_failures` failed checks within FAILURE_WINDOW."""

    def __init__(self, users: dict[str, str], max_failures: int = MAX_FAILURES):
        self.users = users
        self.max_failures = max_failures
        self._pool = ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="auth")
        self._lock = threading.Lock()
        self._remembered: dict[tuple[str, bytes], float] = {}  # (user, password digest) -> until
        self._failures: dict[str, deque] = {}  # address -> times of its recent failures
        self.hashes_checked = 0  # passwords run through scrypt (/metrics shows it)

    def retry_after(self, address: str) -> int:
        """Seconds until this address may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(address)
            while failures and failures[0] < now - FAILURE_WINDOW:
                failures.popleft()
            if not failures:
                self._failures.pop(address, None)
                return 0
            if len(failures) < self.max_failures:
                return 0
            return max(int(failures[0] + FAILURE_WINDOW - now) + 1, 1)

    async def check(self, user: str, password: str, address: str) -> bool:
        stored = self.users.get(user)
        key = (user, hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest())
        now = time.monotonic()
        with self._lock:
            if self._remembered.get(key, 0) > now:
                return True
        if stored is not None:
            with self._lock:
                self.hashes_checked += 1
        ok = stored is not None and await asyncio.get_running_loop().run_in_executor(
            self._pool, check_password, password, stored)
        with self._lock:
            if ok:
                if len(self._remembered) > 10_000:  # forget the expired ones
                    self._remembered = {k: t for k, t in self._remembered.items() if t > now}
                self._remembered[key] = now + REMEMBER_SECONDS
        if not ok:
            self.record_failure(address)
        return ok

    def record_failure(self, address: str) -> None:
        with self._lock:
            self._failures.setdefault(address, deque()).append(time.monotonic())

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
