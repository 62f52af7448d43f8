"""A real uvicorn server for ``model.serve_app`` in a thread of the test process, on 127.0.0.1 and a free
port, plus raw-socket requests for what the openai client would never send."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import uvicorn

from model.engine import Engine
from model.serve import listening_socket
from model.serve_app import ServerLimits, build_app, uvicorn_config


class RunningServer:
    def __init__(self, engine: Engine, limits: ServerLimits, api_key: str | None = None,
                 protocol: type | None = None) -> None:
        self.app = build_app(engine, limits, api_key=api_key)
        self.sock = listening_socket("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn_config(self.app, protocol, lifespan="off",
                                                    log_level="warning"))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete,
                                       args=(self.server.serve(sockets=[self.sock]),), daemon=True)

    @property
    def generations(self):
        return self.app.state.generations

    def on_loop(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's event loop (to hold its generation slots, say)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@contextmanager
def running_server(engine: Engine, limits: ServerLimits, api_key: str | None = None,
                   protocol: type | None = None) -> Iterator[RunningServer]:
    """A server for the test's block; ``protocol``: one of ``model.serve_app``'s uvicorn protocol classes."""
    running = RunningServer(engine, limits, api_key, protocol)
    running.thread.start()
    deadline = time.monotonic() + 30
    while not running.server.started:
        assert time.monotonic() < deadline and running.thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield running
    finally:
        running.server.should_exit = True
        running.thread.join(timeout=30)
        running.loop.close()
        running.sock.close()


def raw_request(port: int, head: str, body: bytes = b"", read_timeout: float = 30) -> tuple[int, bytes, bytes]:
    """Send ``head`` (request line and headers, without the blank line) and ``body`` as given, then read
    the answer until the server closes or a whole Content-Length reply has come: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), None)
    while length is None or len(rest) < length:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        rest += chunk
    return status, head, rest


def post_json(port: int, path: str, payload: bytes, extra_headers: str = "") -> tuple[int, dict]:
    head = (f"POST {path} HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
            f"Content-Length: {len(payload)}{extra_headers}\nConnection: close")
    status, _, body = raw_request(port, head, payload)
    return status, json.loads(body)


class ServerProcess:
    """``python -m model.serve ...`` in a subprocess: its stderr drained by a thread (a full pipe would stall
    the server), the port read from its "serving ... on http://host:port/v1" line."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "model.serve", *args], cwd=cwd, env=env,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.serving = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.serving.wait(timeout):
            self.stop()
            raise AssertionError("the server did not start:\n" + "".join(self.lines[-40:]))
        line = next(line for line in self.lines if " serving " in line)
        self.port = int(line.split("http://", 1)[1].rsplit(":", 1)[1].split("/", 1)[0])

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)
            if " serving " in line:
                self.serving.set()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            raise
