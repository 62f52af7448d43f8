"""model.serve (FastAPI on uvicorn) through the official `openai` client on 127.0.0.1: completions, chat,
streaming that reassembles to the non-streamed answer, stop sequences, usage, and OpenAI-style 4xx errors
for bad requests, oversized bodies and a full server. The hardening tests (malformed bodies, lying
lengths, methods, API key, client disconnects, 100 clients) are in test_serve_limits.py."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import openai  # test-only dependency (the `test` extra); `make test` installs it

from model.engine import Engine, Sampling
from model.serve_app import ServerLimits
from tests.model.serve_helpers import ServerProcess, post_json, running_server
from tests.tiny_checkpoint import save_tiny_checkpoint

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
    # request never gets a spurious 429 because the previous one had not yet given its slot back.
    with running_server(engine, ServerLimits(max_body_bytes=4096, max_concurrency=1, queue_timeout_s=30.0)) as s:
        yield s


@pytest.fixture(scope="module")
def client(server) -> "openai.OpenAI":
    return openai.OpenAI(base_url=f"{server.base}/v1", api_key="unused", max_retries=0, timeout=30)


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
    assert several.usage.completion_tokens == 6 and several.usage.prompt_tokens == 3
    alone = client.completions.create(model=MODEL, prompt="A", max_tokens=3, temperature=0)
    assert several.choices[1].text == alone.choices[0].text


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


def test_streamed_several_prompts_with_echo_and_usage(client):
    stream = list(client.completions.create(model=MODEL, prompt=["The river", "A"], max_tokens=3, temperature=0,
                                            echo=True, stream=True, stream_options={"include_usage": True}))
    texts = {0: "", 1: ""}
    for chunk in stream[:-1]:
        texts[chunk.choices[0].index] += chunk.choices[0].text
    plain = client.completions.create(model=MODEL, prompt=["The river", "A"], max_tokens=3, temperature=0, echo=True)
    assert [texts[0], texts[1]] == [c.text for c in plain.choices]
    assert stream[-1].usage.completion_tokens == 6 and stream[-1].usage.prompt_tokens == 3


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
    (dict(prompt="x", max_tokens=2, seed=2 ** 70), "seed"),  # was a 500: torch refuses seeds past 64 bits
    (dict(prompt="x", max_tokens=10 ** 400), "max_tokens"),
    (dict(prompt="x", max_tokens=2, temperature=10 ** 400), "temperature"),  # was an OverflowError
    (dict(prompt=["x"] * 17, max_tokens=1), "prompt"),  # more prompts than --max-prompts (16)
])
def test_bad_completion_requests_are_400(client, kwargs, param):
    with pytest.raises(openai.BadRequestError) as raised:
        client.completions.create(model=MODEL, **kwargs)
    assert raised.value.status_code == 400
    assert raised.value.body["param"] == param and raised.value.body["type"] == "invalid_request_error"
    assert len(raised.value.body["message"]) < 400  # huge values are cut short in the message


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


def test_malformed_and_oversized_bodies(server):
    status, payload = post_json(server.port, "/v1/completions", b'{"model": "tiny-test", "prompt": ')
    assert status == 400 and "not valid JSON" in payload["error"]["message"]
    status, payload = post_json(server.port, "/v1/completions", b"[1, 2]")
    assert status == 400 and "JSON object" in payload["error"]["message"]
    status, payload = post_json(server.port, "/v1/completions", json.dumps({"model": MODEL, "prompt": "x" * 5000}).encode())
    assert status == 413 and payload["error"]["code"] == "request_too_large"
    status, payload = post_json(server.port, "/v1/embeddings", b"{}")
    assert status == 404 and payload["error"]["code"] == "not_found"


def test_full_server_answers_429(server, client):
    """With every generation slot taken (held by the test itself, so nothing races), a request waits
    queue_timeout and then gets a 429; the slot back, requests are served again."""
    generations = server.generations
    server.on_loop(generations.slots.acquire())
    limits = generations.limits
    try:
        generations.limits = dataclasses.replace(limits, queue_timeout_s=1.0)
        started = time.perf_counter()
        with pytest.raises(openai.RateLimitError) as raised:
            client.completions.create(model=MODEL, prompt="x", max_tokens=2)
        assert time.perf_counter() - started >= 1.0  # it waited: a lower bound, which load cannot break
        assert raised.value.body["code"] == "server_busy"
    finally:
        generations.limits = limits
        server.loop.call_soon_threadsafe(generations.slots.release)
    assert client.completions.create(model=MODEL, prompt="x", max_tokens=2).choices  # free again


def test_stream_gives_its_slot_back_before_it_ends(server, client):
    """A client's next request, sent as soon as its stream ends, must not find that stream still holding
    the slot (a 429 whenever the worker was slow after the last event, as on a loaded machine): the slot is
    released before the last event is queued, so /health sees none held."""
    import urllib.request

    for _ in range(3):
        list(client.completions.create(model=MODEL, prompt="x", max_tokens=2, stream=True))
        with urllib.request.urlopen(f"{server.base}/health", timeout=30) as response:
            assert json.loads(response.read())["generating"] == 0
        list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                            max_tokens=2, stream=True))
        assert server.generations.busy == 0


def test_models_route(client):
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_runs_as_module(checkpoint, repo_root):
    """`python -m model.serve CHECKPOINT` starts, takes its API key from REFINERY_API_KEY, listens with a
    backlog for 100 waiting clients, answers, and reports a bad checkpoint in one line."""
    env = {**os.environ, "REFINERY_API_KEY": "sekret"}
    server = ServerProcess([str(checkpoint), "--port", "0", "--model-name", MODEL], repo_root, env)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key="sekret", max_retries=0,
                               timeout=30)
        assert client.completions.create(model=MODEL, prompt="Hi", max_tokens=2).usage.completion_tokens == 2
        with pytest.raises(openai.AuthenticationError):
            client.with_options(api_key="wrong").models.list()
        if shutil.which("ss"):  # iproute2; without it test_serve_limits' 100 concurrent clients still bite
            listen = subprocess.run(["ss", "-Hltn", f"sport = :{server.port}"], capture_output=True, text=True,
                                    check=True)
            assert int(listen.stdout.split()[2]) >= 100  # Send-Q of a listening socket: its backlog (was 5)
    finally:
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it so a supervisor sees why it stopped.
        assert server.stop() in (0, -signal.SIGTERM), "".join(server.lines[-20:])
    bad = subprocess.run([sys.executable, "-m", "model.serve", "--checkpoint", str(checkpoint) + ".missing"],
                         cwd=repo_root, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr
