"""``python -m model.serve --replicas 2`` on the test session's real local Ray: two Ray Serve replicas
behind Ray Serve's proxy, used through the official openai client (plain, streamed, errors, the API key
from REFINERY_API_KEY), both replicas
answering, generation stopped on its replica when a client leaves, and the deployment taken down on
SIGTERM. Placement (one GPU per replica where the cluster has
GPUs) is checked on the function that decides it."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from pathlib import Path

import pytest

import openai

from tests.model.serve_helpers import ServerProcess, raw_request
from tests.tiny_checkpoint import save_tiny_checkpoint

MODEL = "tiny-test"


def health(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/health", timeout=60) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_placement_one_gpu_per_replica_where_there_are_gpus() -> None:
    from model.serve_ray import placement

    assert placement({"CPU": 16.0, "GPU": 2.0}, 2, 1.0) == ({"num_gpus": 1, "num_cpus": 1}, "cuda")
    assert placement({"CPU": 2.0}, 2, 1.0) == ({"num_cpus": 1.0}, "cpu")
    assert placement({"CPU": 8.0, "GPU": 0.0}, 3, 2.0) == ({"num_cpus": 2.0}, "cpu")


@pytest.mark.slow
def test_two_replicas_on_ray_serve(ray_local, tmp_path: Path, shared_data: Path, repo_root: Path) -> None:
    checkpoint = tmp_path / "tiny.pt"
    save_tiny_checkpoint(checkpoint, shared_data, context_length=4096)  # room for a long generation to cancel
    address = ray_local.get_runtime_context().gcs_address
    # Half a CPU each: the two replicas fit on the session's 2-CPU Ray even beside another test's leftovers.
    server = ServerProcess([str(checkpoint), "--replicas", "2", "--ray-address", address, "--cpus-per-replica",
                            "0.5", "--port", str(free_port()), "--model-name", MODEL], repo_root,
                           env={**os.environ, "REFINERY_API_KEY": "sekret"}, timeout=180)
    try:
        base = f"http://127.0.0.1:{server.port}"
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="sekret", max_retries=0, timeout=60)
        with pytest.raises(openai.AuthenticationError):  # the key reached the replicas
            client.with_options(api_key="wrong").models.list()
        plain = client.completions.create(model=MODEL, prompt="The river", max_tokens=6, temperature=0)
        assert plain.usage.completion_tokens == 6 and plain.choices[0].finish_reason == "length"
        streamed = client.completions.create(model=MODEL, prompt="The river", max_tokens=6, temperature=0,
                                             stream=True)
        assert "".join(c.choices[0].text for c in streamed) == plain.choices[0].text
        messages = [{"role": "user", "content": "Name a colour."}]
        chat = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=4, temperature=0)
        chunks = list(client.chat.completions.create(model=MODEL, messages=messages, max_tokens=4, temperature=0,
                                                     stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == chat.choices[0].message.content
        with pytest.raises(openai.BadRequestError) as raised:
            client.completions.create(model=MODEL, prompt="x", max_tokens=2, seed=2 ** 70)
        assert raised.value.body["param"] == "seed"
        status, _, payload = raw_request(server.port, "DELETE /v1/completions HTTP/1.1\nHost: 127.0.0.1\n"
                                         "Authorization: Bearer sekret\nContent-Length: 0\nConnection: close")
        assert status == 405 and json.loads(payload)["error"]["code"] == "method_not_allowed"
        assert [m.id for m in client.models.list()] == [MODEL]

        replicas = set()
        for _ in range(40):
            replicas.add(health(base)["replica"])
            if len(replicas) == 2:
                break
        assert len(replicas) == 2, "one replica answered every request"

        # A client that leaves mid-stream: Ray Serve cancels the request on its replica, which stops
        # generating (4,000 tokens would take seconds; the replica reports it stopped early).
        body = json.dumps({"model": MODEL, "prompt": "x", "max_tokens": 4000, "temperature": 0, "stream": True})
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            sock.sendall(f"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         f"Authorization: Bearer sekret\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode())
            assert sock.recv(1)
        deadline = time.monotonic() + 60
        while not any(health(base)["cancelled"] for _ in range(4)):
            assert time.monotonic() < deadline, "no replica stopped the generation of a client that left"
            time.sleep(0.2)
    finally:
        code = server.stop()
    assert code == 0, "".join(server.lines[-40:])
    with pytest.raises(OSError):  # the proxy went with the deployment
        socket.create_connection(("127.0.0.1", server.port), timeout=10).close()
