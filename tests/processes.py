"""The real processes tests start and talk to: `ksql server` over HTTP and WebSocket, and the
shell in a pseudo-terminal."""
from __future__ import annotations

import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir, *extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # its output goes to a file: a pipe no one reads would stall the server once full
        self.log_path = Path(data_dir).parent / f"server-{self.port}.log"
        with open(self.log_path, "wb") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "ksql.cli", "server", "--host", "127.0.0.1",
                                             "--port", str(self.port), "--data-dir", str(data_dir), *extra],
                                            stdout=output, stderr=subprocess.STDOUT)
        wait_for(self._healthy, timeout=60)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _healthy(self):
        try:
            return httpx.get(self.url + "/healthcheck", timeout=1).json()["isHealthy"]
        except httpx.HTTPError:
            assert self.process.poll() is None, self.log()
            return False

    def ksql(self, statements: str, **properties):
        return httpx.post(self.url + "/ksql", json={"ksql": statements, "streamsProperties": properties},
                          timeout=30)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def backend_args(backend: dict) -> list[str]:
    return ["--bootstrap-servers", backend["bootstrap.servers"]] if backend else []


def websocket_messages(port: int, target: str, headers=()) -> tuple[list[str], int | None, str]:
    """The text messages of one websocket conversation, and the code and reason it closed with
    (None when the handshake was refused)."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, CloseConnection, RejectConnection, Request, TextMessage

    connection = WSConnection(ConnectionType.CLIENT)
    messages, text = [], ""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(connection.send(Request(host=f"127.0.0.1:{port}", target=target, extra_headers=list(headers))))
        while True:
            data = sock.recv(65536)
            connection.receive_data(data or None)
            for event in connection.events():
                if isinstance(event, RejectConnection):
                    return messages, None, str(event.status_code)
                if isinstance(event, TextMessage):
                    text += event.data
                    if event.message_finished:
                        messages.append(text)
                        text = ""
                elif isinstance(event, CloseConnection):
                    sock.sendall(connection.send(event.response()))
                    return messages, event.code, event.reason
                elif isinstance(event, AcceptConnection):
                    pass
            if not data:
                return messages, -1, "the connection ended without a close"


KSQL = [sys.executable, "-m", "ksql.cli"]


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


class Terminal:
    """The REPL in a pseudo-terminal, read with deadlines."""

    def __init__(self, args, cwd: Path):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # a test run in the background ignores it
            os.chdir(cwd)
            os.environ["KSQL_HISTORY"] = str(cwd / "history")
            os.environ["TERM"] = "xterm"
            os.execv(sys.executable, [sys.executable, "-m", "ksql.cli"] + args)
        self.screen = ""

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def expect(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} not seen; screen:\n{self.screen[-2000:]}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    data = os.read(self.fd, 65536).decode(errors="replace")
                except OSError:
                    break
                # Answer cursor-position requests so prompt_toolkit does not wait for them.
                if "\x1b[6n" in data:
                    self.send("\x1b[1;1R")
                self.screen += _ANSI.sub("", data)
        assert text in self.screen, f"{text!r} not seen; screen:\n{self.screen[-2000:]}"

    def mark(self) -> None:
        self.screen = ""

    def close(self) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:
                if select.select([self.fd], [], [], 0.1)[0]:
                    os.read(self.fd, 65536)
            except OSError:
                pass
        os.kill(self.pid, 9)
        raise AssertionError("ksql did not exit")
