"""Regression tests for what the hand-written server got wrong (issue 16), each against a real uvicorn
server on 127.0.0.1: body caps that a negative, lying or absent Content-Length cannot bypass, 4xx (never
500) for malformed requests, OpenAI-shaped JSON errors for every method and route, the API key, prompts
per request, generation stopped when its client leaves, and 100 clients at once."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import openai

from model.engine import Engine
from model.openai_api import CHAT_PARAMS, COMPLETION_PARAMS
from model.serve_app import OpenAIErrors, OpenAIErrorsH11, ServerLimits
from tests.model.serve_helpers import ServerProcess, post_json, raw_request, read_response, running_server
from tests.tiny_checkpoint import save_tiny_checkpoint

MODEL = "tiny-test"
LIMITS = ServerLimits(max_body_bytes=4096, max_concurrency=2, queue_timeout_s=60.0, body_timeout_s=2.0)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Engine:
    path = tmp_path_factory.mktemp("serve-limits") / "tiny.pt"
    save_tiny_checkpoint(path, shared_data)
    return Engine.from_checkpoint(path, model_name=MODEL, template="alpaca")


@pytest.fixture(scope="module")
def server(engine: Engine):
    with running_server(engine, LIMITS) as running:
        yield running


def health(server) -> dict:
    with urllib.request.urlopen(f"{server.base}/health", timeout=30) as response:
        return json.loads(response.read())


def assert_openai_error(status: int, payload: dict, expected: int) -> None:
    assert status == expected, payload
    assert set(payload) == {"error"} and {"message", "type", "param", "code"} <= set(payload["error"])


# ---- bodies --------------------------------------------------------------------------------------------

PROTOCOLS = [pytest.param(cls, id=cls.__name__) for cls in (OpenAIErrors, OpenAIErrorsH11)]
FRAMING = [  # (request head, body): requests uvicorn's HTTP parser refuses before the app sees them
    ("POST /v1/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nContent-Length: -1",
     b"x" * 200_000),
    ("GET /health HTTP/1.1\nHost: 127.0.0.1\nContent-Length: -1", b""),
    ("PUT /nowhere HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 12abc", b""),
    ("POST /v1/chat/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 5\nContent-Length: 6", b"{}{}{}"),
    ("POST /v1/completions HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: gzip", b""),
    ("POST /v1/completions HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked", b"zz\r\n{}\r\n0\r\n\r\n"),
    ("POST /v1/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 2\nTransfer-Encoding: chunked",
     b"0\r\n\r\n"),
    ("NOT AN HTTP REQUEST", b""),
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_malformed_framing_gets_an_openai_error(engine, protocol):
    """Content-Length: -1 once made the old server read the whole stream (memory grew by 670 MB); uvicorn's
    parser refuses it, and every other framing it cannot trust, before the app runs, and used to answer in
    plain text. Both parsers uvicorn can run now answer OpenAI's JSON and close the connection."""
    with running_server(engine, LIMITS, protocol=protocol) as server:
        for head, body in FRAMING:
            status, headers, payload = raw_request(server.port, head, body)
            assert b"content-type: application/json" in headers.lower(), (head, headers, payload)
            assert_openai_error(status, json.loads(payload), 400)
            if protocol is OpenAIErrorsH11 and "Content-Length: 2" in head:
                # h11 reads a chunked body beside a Content-Length (RFC 9112 6.3 allows it): the request
                # reaches the app, whose own 400 says the (empty) body is not JSON
                assert "JSON" in json.loads(payload)["error"]["message"]
                continue
            assert json.loads(payload)["error"]["code"] == "invalid_http_request"
            assert b"connection: close" in headers.lower()
        # after an answered request on a kept-alive connection, the next one's framing error is JSON too
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_response(sock)[0] == 200
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n")
            status, _, payload = read_response(sock)
            assert_openai_error(status, json.loads(payload), 400)
        assert health(server)["status"] == "ok"


def test_negative_content_length_reads_no_body(repo_root, shared_data, tmp_path):
    """The body cap holds for Content-Length: -1: the server closes after the headers, so a client pushing
    256 MB behind them gets a reset after at most the sockets' buffers, and the server's memory stays put."""
    checkpoint = tmp_path / "tiny.pt"
    save_tiny_checkpoint(checkpoint, shared_data)
    server = ServerProcess([str(checkpoint), "--port", "0", "--max-body-bytes", "4096", "--model-name", MODEL],
                           repo_root)
    try:
        before = resident_bytes(server.process.pid)
        sent = 0
        head = b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n"
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(head)
            block = b"x" * (1 << 20)
            try:
                for _ in range(256):
                    sock.sendall(block)
                    sent += len(block)
            except (BrokenPipeError, ConnectionResetError):
                pass
        time.sleep(0.5)
        grown = resident_bytes(server.process.pid) - before
        assert sent < 64 << 20, f"the server kept reading: {sent} bytes went through"
        assert grown < 32 << 20, f"the server's memory grew by {grown} bytes"
        status, payload = post_json(server.port, "/v1/completions",
                                    b'{"model": "tiny-test", "prompt": "x", "max_tokens": 1}')
        assert status == 200, payload  # and it still serves
    finally:
        server.stop()


def resident_bytes(pid: int) -> int:
    """A process's resident memory, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def test_chunked_body_over_the_cap_is_413(server):
    """No Content-Length at all (chunked): the cap is counted on the bytes as they arrive."""
    chunk = b"a" * 1024
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
    head = "POST /v1/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nTransfer-Encoding: chunked"
    status, _, payload = raw_request(server.port, head, body)
    assert_openai_error(status, json.loads(payload), 413)


def test_declared_length_over_the_cap_is_413_before_the_body(server):
    head = ("POST /v1/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\n"
            f"Content-Length: {10 ** 12}")
    status, headers, payload = raw_request(server.port, head)  # no body sent at all
    assert_openai_error(status, json.loads(payload), 413)
    assert b"connection: close" in headers.lower()


def test_lying_content_lengths(server):
    body = json.dumps({"model": MODEL, "prompt": "x" * 3000, "max_tokens": 1}).encode()
    # Shorter than the body: the declared bytes are the body (cut JSON) and the rest is no request; uvicorn
    # refuses that rest as it parses (400, connection closed), before the app has even answered the first.
    head = "POST /v1/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nContent-Length: 10"
    status, _, _ = raw_request(server.port, head, body)
    assert status == 400
    status, _, payload = raw_request(server.port, head, body[:10])  # the cut JSON alone: the app's 400
    assert_openai_error(status, json.loads(payload), 400)
    # Longer than the body, which then stalls: a 408 after body_timeout_s, not a thread held forever.
    head = "POST /v1/completions HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nContent-Length: 100"
    started = time.monotonic()
    status, _, payload = raw_request(server.port, head, b'{"model": ')
    assert_openai_error(status, json.loads(payload), 408)
    assert time.monotonic() - started >= LIMITS.body_timeout_s


# ---- malformed requests: 4xx, never 500 ------------------------------------------------------------------

NESTED_DEEP = b'{"model": "tiny-test", "prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
NESTED_40 = b'{"model": "tiny-test", "prompt": "x", "user": ' + b"[" * 40 + b"]" * 40 + b"}"
HUGE_INT = b'{"model": "tiny-test", "prompt": "x", "max_tokens": ' + b"9" * 5000 + b"}"


@pytest.mark.parametrize("path, raw, fragment", [
    ("/v1/completions", NESTED_DEEP, "nested"),  # was a 500 (RecursionError)
    ("/v1/completions", NESTED_40, "nested"),
    ("/v1/completions", HUGE_INT, "4300 digits"),  # was a 500 (ValueError from int())
    ("/v1/completions", b'{"model": "tiny-test", "prompt": "x", "temperature": NaN}', "temperature"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": "x", "seed": 1180591620717411303424}', "seed"),
    ("/v1/completions", b'\xff\xfe\x00{', "not valid JSON"),
    ("/v1/completions", b'{"model": 5, "prompt": "x"}', "model"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": {"a": 1}}', "prompt"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": [[1, "a"]]}', "prompt"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": [["x"]]}', "prompt"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": [1, ["x"]]}', "prompt"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": "x", "stream": "yes"}', "stream"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": "x", "stop": 5}', "stop"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": "x", "echo": 1}', "echo"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": "x", "stream": true, "stream_options": []}', "stream_options"),
    ("/v1/completions", b'{"model": "tiny-test", "prompt": "x", "logit_bias": {"1": [[[2]]]}}', "logit_bias"),
    ("/v1/chat/completions", b'{"model": "tiny-test", "messages": "hi"}', "messages"),
    ("/v1/chat/completions", b'{"model": "tiny-test", "messages": [5]}', "messages"),
    ("/v1/chat/completions", b'{"model": "tiny-test", "messages": [{"role": "user", "content": 5}]}', "content"),
    ("/v1/chat/completions", b'{"model": "tiny-test", "messages": [{"role": ["user"], "content": "x"}]}', "role"),
    ("/v1/chat/completions", b'{"model": "tiny-test", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}', "text parts"),
    ("/v1/chat/completions", b'{"model": "tiny-test", "messages": [{"role": "user", "content": "x"}], "max_completion_tokens": "5"}', "max_completion_tokens"),
])
def test_malformed_requests_are_400(server, path, raw, fragment):
    status, payload = post_json(server.port, path, raw) if len(raw) <= LIMITS.max_body_bytes else (None, None)
    if status is None:  # the deeply nested body is over the fixture's cap: a server with a larger one
        with running_server(server.app.state.generations.engine, dataclasses.replace(LIMITS, max_body_bytes=1 << 20)) as big:
            status, payload = post_json(big.port, path, raw)
    assert_openai_error(status, payload, 400)
    assert fragment in payload["error"]["message"] or payload["error"]["param"] == fragment


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(min_value=-(2 ** 80), max_value=2 ** 80)
                           | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=12)


VALID = {"/v1/completions": {"model": MODEL, "prompt": "x", "max_tokens": 2},
         "/v1/chat/completions": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}}


def request_bodies(route: str):
    """A valid request with up to three of the route's parameters set to anything: the neutral and free
    parameters (user, metadata, n=1 ...) keep many of them valid, so answers and refusals both come up."""
    keys = sorted((COMPLETION_PARAMS if route == "/v1/completions" else CHAT_PARAMS) - {"stream"})
    values = st.one_of(JSON_VALUES, st.integers(min_value=0, max_value=8), st.floats(min_value=0, max_value=2),
                       st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "x"]),
                                                       "content": JSON_VALUES}), max_size=3))
    return st.dictionaries(st.sampled_from(keys), values, max_size=3).map(lambda body: {**VALID[route], **body})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(sorted(VALID)), data=st.data())
def test_any_json_body_gets_an_answer_or_a_4xx(server, route, data):
    """Random values of any JSON type for the routes' own parameters: an answer or a 4xx, never a 500.
    (Streams are left out: their status is 200 before any value is generated, and the values are the same.)"""
    body = data.draw(request_bodies(route))
    status, payload = post_json(server.port, route, json.dumps(body).encode())
    assert status == 200 or 400 <= status < 500, (status, payload)
    if status != 200:
        assert_openai_error(status, payload, status)


# ---- methods and routes --------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("path, expected", [("/v1/completions", 405), ("/v1/chat/completions", 405),
                                            ("/v1/models", 405), ("/health", 405), ("/v1/embeddings", 404),
                                            ("/", 404)])
def test_every_method_and_route_gets_an_openai_error(server, method, path, expected):
    status, headers, payload = raw_request(server.port, f"{method} {path} HTTP/1.1\nHost: 127.0.0.1\n"
                                           "Content-Length: 0\nConnection: close")
    assert_openai_error(status, json.loads(payload), expected)  # the old server sent an HTML 501
    if expected == 405:
        assert b"\r\nallow: " in headers.lower()


# ---- API key -------------------------------------------------------------------------------------------

def test_api_key(engine):
    with running_server(engine, LIMITS, api_key="sekret") as keyed:
        for key in ("wrong", "sekret-longer", "Sekret"):
            with pytest.raises(openai.AuthenticationError) as raised:
                openai.OpenAI(base_url=f"{keyed.base}/v1", api_key=key, max_retries=0).models.list()
            assert raised.value.body["code"] == "invalid_api_key"
        status, payload = post_json(keyed.port, "/v1/completions", b"{}")  # no Authorization header at all
        assert_openai_error(status, payload, 401)
        client = openai.OpenAI(base_url=f"{keyed.base}/v1", api_key="sekret", max_retries=0, timeout=30)
        assert client.completions.create(model=MODEL, prompt="x", max_tokens=1).choices
        assert health(keyed)["status"] == "ok"  # probes need no key


# ---- bounded work --------------------------------------------------------------------------------------

class SlowEngine(Engine):
    """The real engine, with each token taking at least ``delay`` seconds (a big model on a slow device)
    and counted, so a test can see whether generation stopped."""

    delay = 0.1
    produced = 0

    def tokens(self, prompt_ids, sampling, cancel=None):
        for token in super().tokens(prompt_ids, sampling, cancel):
            time.sleep(self.delay)
            self.produced += 1
            yield token


@pytest.fixture()
def slow_server(engine: Engine):
    slow = SlowEngine(**{f.name: getattr(engine, f.name) for f in dataclasses.fields(engine)})
    with running_server(slow, dataclasses.replace(LIMITS, max_concurrency=1)) as running:
        yield running, slow


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def send_then_leave(port: int, body: dict, wait_for) -> None:
    """Send a request, wait until ``wait_for(sock)`` says the server is at work, and hang up."""
    payload = json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        wait_for(sock)


@pytest.mark.parametrize("stream", [True, False])
def test_generation_stops_when_the_client_leaves(slow_server, stream):
    """The old server generated to the end for a client that had gone, while others waited for the slot."""
    server, engine = slow_server
    body = {"model": MODEL, "prompt": "x", "max_tokens": 60, "temperature": 0, "stream": stream}
    if stream:
        send_then_leave(server.port, body, lambda sock: sock.recv(1))  # the first bytes of the stream
    else:
        send_then_leave(server.port, body, lambda sock: wait_until(lambda: engine.produced >= 1))
    wait_until(lambda: health(server)["generating"] == 0)
    assert engine.produced < 60 // 2  # 60 tokens take 6 s; the disconnect is seen within a token or two
    assert health(server)["cancelled"] == 1
    client = openai.OpenAI(base_url=f"{server.base}/v1", api_key="unused", max_retries=0, timeout=30)
    assert client.completions.create(model=MODEL, prompt="x", max_tokens=1).choices  # the slot is free


def test_a_client_that_leaves_while_queued_never_generates(slow_server):
    server, engine = slow_server
    server.on_loop(server.generations.slots.acquire())  # every slot taken
    try:
        body = {"model": MODEL, "prompt": "x", "max_tokens": 60, "stream": False}
        send_then_leave(server.port, body, lambda sock: wait_until(lambda: health(server)["waiting"] == 1))
        wait_until(lambda: health(server)["waiting"] == 0)  # it left the queue without a slot
    finally:
        server.loop.call_soon_threadsafe(server.generations.slots.release)
    wait_until(lambda: health(server)["generating"] == 0)
    assert engine.produced == 0 and health(server)["cancelled"] == 0  # nothing started, nothing to stop


def test_a_request_carries_a_bounded_number_of_prompts(server):
    status, payload = post_json(server.port, "/v1/completions",
                                json.dumps({"model": MODEL, "prompt": ["a"] * 500, "max_tokens": 1}).encode())
    assert_openai_error(status, payload, 400)
    assert payload["error"]["code"] == "too_many_prompts"
    status, payload = post_json(server.port, "/v1/completions",
                                json.dumps({"model": MODEL, "prompt": ["a"] * LIMITS.max_prompts,
                                            "max_tokens": 1}).encode())
    assert status == 200 and len(payload["choices"]) == LIMITS.max_prompts


def test_a_hundred_clients_at_once(server):
    """100 clients connect and ask at the same moment: all answered (the old server's backlog of 5 reset
    connections), the generation slots queue them."""
    results: list[int] = []
    start = threading.Barrier(100)
    body = json.dumps({"model": MODEL, "prompt": "x", "max_tokens": 2, "temperature": 0}).encode()

    def one() -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=120) as sock:
            start.wait(timeout=60)
            sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            results.append(read_response(sock)[0])

    threads = [threading.Thread(target=one) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert results == [200] * 100
