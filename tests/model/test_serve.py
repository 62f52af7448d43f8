"""model.serve through the official `openai` client on 127.0.0.1: completions, chat, streaming that
reassembles to the non-streamed answer, stop sequences, usage, and OpenAI-style 4xx errors for bad
requests, oversized bodies and a full server."""

from __future__ import annotations

import dataclasses
import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import openai  # test-only dependency (the `test` extra); `make test` installs it

from model.engine import Engine, Sampling  # noqa: E402
from model.serve import Handler, ServerLimits, make_server  # noqa: E402
from tests.tiny_checkpoint import save_tiny_checkpoint  # noqa: E402

MODEL = "tiny-test"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    path = tmp_path_factory.mktemp("serve") / "tiny.pt"
    save_tiny_checkpoint(path, shared_data)
    return path


@pytest.fixture(scope="module")
def engine(checkpoint: Path) -> Engine:
    return Engine.from_checkpoint(checkpoint, model_name=MODEL, template="alpaca")


@pytest.fixture(scope="module")
def server(engine: Engine):
    # One slot, and a queue wait far longer than any request here takes even on a loaded machine: a
    # request never gets a spurious 429 because the previous one's thread had not yet given its slot back.
    server = make_server(engine, port=0, limits=ServerLimits(max_body_bytes=4096, max_concurrency=1,
                                                             queue_timeout_s=30.0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def client(server) -> "openai.OpenAI":
    host, port = server.server_address[:2]
    return openai.OpenAI(base_url=f"http://{host}:{port}/v1", api_key="unused", max_retries=0, timeout=30)


def test_completion(client):
    result = client.completions.create(model=MODEL, prompt="The river", max_tokens=6, temperature=0)
    choice = result.choices[0]
    assert result.object == "text_completion" and result.model == MODEL
    assert choice.finish_reason == "length" and choice.text
    assert result.usage.prompt_tokens == 2 and result.usage.completion_tokens == 6
    assert result.usage.total_tokens == 8
    echoed = client.completions.create(model=MODEL, prompt="The river", max_tokens=6, temperature=0, echo=True)
    assert echoed.choices[0].text == "The river" + choice.text
    several = client.completions.create(model=MODEL, prompt=["The river", "A"], max_tokens=3, temperature=0)
    assert [c.index for c in several.choices] == [0, 1]


def test_seeded_sampling_repeats(client):
    kwargs = dict(model=MODEL, prompt="Once", max_tokens=8, temperature=1.0, top_p=0.9, seed=3)
    assert client.completions.create(**kwargs).choices[0].text == client.completions.create(**kwargs).choices[0].text


def test_chat(client):
    result = client.chat.completions.create(model=MODEL, max_tokens=5, temperature=0,
                                            messages=[{"role": "system", "content": "Be brief."},
                                                      {"role": "user", "content": "Name a colour."}])
    assert result.object == "chat.completion"
    assert result.choices[0].message.role == "assistant" and result.choices[0].message.content
    assert result.usage.completion_tokens == 5


def test_streams_reassemble_to_the_plain_answers(client):
    plain = client.completions.create(model=MODEL, prompt="The river", max_tokens=10, temperature=0)
    chunks = list(client.completions.create(model=MODEL, prompt="The river", max_tokens=10, temperature=0,
                                            stream=True))
    assert "".join(c.choices[0].text for c in chunks) == plain.choices[0].text
    assert chunks[-1].choices[0].finish_reason == "length"

    messages = [{"role": "user", "content": "Name a colour."}]
    chat = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=10, temperature=0)
    stream = list(client.chat.completions.create(model=MODEL, messages=messages, max_tokens=10, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    assert stream[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in stream)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == chat.choices[0].message.content
    assert [c.choices[0].finish_reason for c in stream if c.choices][-1] == "length"
    assert stream[-1].usage.completion_tokens == 10 and not stream[-1].choices


def test_stop_sequences_cut_the_text_even_across_tokens(client, engine):
    full = client.completions.create(model=MODEL, prompt="The river", max_tokens=12, temperature=0).choices[0].text
    stop = full[3:7]  # four characters that may straddle a token boundary
    cut = full[:full.index(stop)]
    result = client.completions.create(model=MODEL, prompt="The river", max_tokens=12, temperature=0, stop=[stop])
    assert result.choices[0].text == cut and result.choices[0].finish_reason == "stop"
    streamed = client.completions.create(model=MODEL, prompt="The river", max_tokens=12, temperature=0,
                                         stop=stop, stream=True)
    assert "".join(c.choices[0].text for c in streamed) == cut

    # Unit level: a stop string assembled from two tokens is never sent, not even its first half.
    ids = engine.encoding.encode("The river")
    deltas = list(engine.stream_text(ids, Sampling(max_tokens=12, temperature=0.0, top_p=1.0, stop=(stop,),
                                                   seed=None)))
    assert "".join(d for d, _, _ in deltas) == cut and deltas[-1][1] == "stop"


@pytest.mark.parametrize("kwargs, param", [
    (dict(prompt="x", max_tokens=500), "max_tokens"),  # beyond the 64-token context
    (dict(prompt="word " * 80, max_tokens=1), "prompt"),  # the prompt alone is longer than the context
    (dict(prompt="x", max_tokens=2, temperature=3.5), "temperature"),
    (dict(prompt="x", max_tokens=2, top_p=0), "top_p"),
    (dict(prompt="x", max_tokens=0), "max_tokens"),
    (dict(prompt="x", max_tokens=2, stop=["a", "b", "c", "d", "e"]), "stop"),
    (dict(prompt="x", max_tokens=2, n=2), "n"),
    (dict(prompt=[1, 2, 10 ** 9], max_tokens=2), "prompt"),
    (dict(prompt="x", max_tokens=2, extra_body={"bogus": 1}), "bogus"),
])
def test_bad_completion_requests_are_400(client, kwargs, param):
    with pytest.raises(openai.BadRequestError) as raised:
        client.completions.create(model=MODEL, **kwargs)
    assert raised.value.status_code == 400
    assert raised.value.body["param"] == param and raised.value.body["type"] == "invalid_request_error"


def test_bad_chat_requests(client):
    with pytest.raises(openai.BadRequestError, match="last message must come from the user"):
        client.chat.completions.create(model=MODEL, messages=[{"role": "assistant", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="role"):
        client.chat.completions.create(model=MODEL, messages=[{"role": "wizard", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="maximum context length") as raised:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "long " * 100}])
    assert raised.value.body["code"] == "context_length_exceeded"
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def raw_post(server, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    return response.status, payload


def test_malformed_and_oversized_bodies(server):
    status, payload = raw_post(server, "/v1/completions", b'{"model": "tiny-test", "prompt": ')
    assert status == 400 and "not valid JSON" in payload["error"]["message"]
    status, payload = raw_post(server, "/v1/completions", b"[1, 2]")
    assert status == 400 and "JSON object" in payload["error"]["message"]
    status, payload = raw_post(server, "/v1/completions", json.dumps({"model": MODEL, "prompt": "x" * 5000}).encode())
    assert status == 413 and payload["error"]["code"] == "request_too_large"
    status, payload = raw_post(server, "/v1/embeddings", b"{}")
    assert status == 404


def test_full_server_answers_429(server, client, monkeypatch):
    """With every generation slot taken (held by the test itself, so nothing races), a request waits
    queue_timeout and then gets a 429."""
    assert server.slots.acquire(timeout=30)
    try:
        monkeypatch.setattr(server, "limits", dataclasses.replace(server.limits, queue_timeout_s=1.0))
        started = time.perf_counter()
        with pytest.raises(openai.RateLimitError):
            client.completions.create(model=MODEL, prompt="x", max_tokens=2)
        assert time.perf_counter() - started >= 1.0  # it waited: a lower bound, which load cannot break
    finally:
        monkeypatch.undo()
        server.slots.release()
    assert client.completions.create(model=MODEL, prompt="x", max_tokens=2).choices  # free again


def test_stream_gives_its_slot_back_before_it_ends(server, client, monkeypatch):
    """A client's next request, sent as soon as its stream ends, must not find that stream still holding
    the slot (a 429 whenever the server thread was slow after the last event, as on a loaded machine)."""
    free_at_end = []
    send_event = Handler.send_event

    def checking_send_event(self, payload):
        if payload == "[DONE]":
            free = self.server.slots.acquire(blocking=False)
            if free:
                self.server.slots.release()
            free_at_end.append(free)
        send_event(self, payload)

    monkeypatch.setattr(Handler, "send_event", checking_send_event)
    list(client.completions.create(model=MODEL, prompt="x", max_tokens=2, stream=True))
    list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=2,
                                        stream=True))
    assert free_at_end == [True, True]


def test_models_route(client):
    assert [m.id for m in client.models.list()] == [MODEL]


def test_runs_as_module(checkpoint, repo_root):
    """`python -m model.serve` starts, answers, and reports a bad checkpoint clearly."""
    process = subprocess.Popen([sys.executable, "-m", "model.serve", "--checkpoint", str(checkpoint), "--port", "0",
                                "--model-name", MODEL], cwd=repo_root, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.time() + 60
        while "serving" not in line and time.time() < deadline:
            line = process.stderr.readline()
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        assert client.completions.create(model=MODEL, prompt="Hi", max_tokens=2).usage.completion_tokens == 2
    finally:
        process.terminate()
        process.wait(timeout=10)
    bad = subprocess.run([sys.executable, "-m", "model.serve", "--checkpoint", str(checkpoint) + ".missing"],
                         cwd=repo_root, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "does not exist" in bad.stderr
