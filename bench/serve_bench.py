"""Serving throughput and latency of `model.serve` against the server it replaced, in the same run: time to
first token and aggregate tokens/s at 1, 4 and 16 concurrent clients, for

* legacy: the old hand-written http.server (bench/legacy_serve.py), one process;
* uvicorn: `python -m model.serve CHECKPOINT`, one process (one replica);
* ray-1 / ray-2: `python -m model.serve CHECKPOINT --replicas 1|2` on a local Ray started by the command.

The legacy server runs for the whole bench and is measured in rounds alternating with each other server's
(load on a shared machine changes by the minute; a ratio is only fair between servers measured in the same
minutes). Every server is a subprocess on 127.0.0.1 with the same generation slots per replica (--max-concurrency)
and a queue wait long enough that nobody gets a 429; single processes use --threads torch threads, Ray
replicas one CPU and one torch thread each. Clients are threads of this process using the official openai
client, each sending --requests-per-client streamed requests one after another; each level is run --rounds
times (median aggregate tokens/s of the rounds, TTFT pooled over all their requests).

Weights are random (latency does not depend on what they say) and the cpu-small preset is used as is
(vocab 4096), so prompts are sent as token ids below 4096 and decoded with the GPT-2 ranks; sampling is
greedy with no end-of-text stop, so every request generates exactly --max-tokens tokens.

    .venv/bin/python bench/serve_bench.py --prompt-tokens 128 --max-tokens 128 --rounds 3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import openai  # noqa: E402

from model.gpt import GPT, GPTConfig  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
MODEL = "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server subprocess, ready once /health answers."""

    def __init__(self, command: list[str], port: int, timeout: float = 300) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.port = port
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if b" 200 " in sock.recv(100):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError(f"{' '.join(command)} did not start:\n{self.log.read()[-3000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # model.serve shuts down gracefully on it; legacy just ends
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.log.close()


def one_request(client: openai.OpenAI, prompt: list[int], max_tokens: int) -> dict[str, float]:
    started = time.perf_counter()
    first = None
    tokens = 0
    stream = client.completions.create(model=MODEL, prompt=prompt, max_tokens=max_tokens, temperature=0,
                                       stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.choices and chunk.choices[0].text and first is None:
            first = time.perf_counter()
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    done = time.perf_counter()
    return {"ttft_ms": 1000 * ((first or done) - started), "tokens": tokens}


def summary(runs: list[dict[str, object]], clients: int) -> dict[str, object]:
    """Rounds of one level: aggregate tokens/s is the median round's, TTFT pooled over all requests."""
    ttfts = sorted(t for run in runs for t in run["ttfts"])
    errors = [e for run in runs for e in run["errors"]]
    return {"clients": clients, "requests": len(ttfts), "errors": len(errors),
            "ttft_ms_median": round(statistics.median(ttfts), 1) if ttfts else None,
            "ttft_ms_p90": round(ttfts[math.ceil(0.9 * len(ttfts)) - 1], 1) if ttfts else None,  # nearest rank
            "aggregate_tokens_per_s": round(statistics.median(run["tokens_per_s"] for run in runs), 1),
            "rounds_tokens_per_s": [round(run["tokens_per_s"], 1) for run in runs],
            "first_error": errors[0] if errors else None}


def load(port: int, clients: int, per_client: int, prompt: list[int], max_tokens: int) -> dict[str, object]:
    """``clients`` threads at once, each sending ``per_client`` requests in turn."""
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0, timeout=600)
    one_request(client, prompt, 4)  # warm-up: connection, first forward pass
    results: list[dict[str, float]] = []
    errors: list[str] = []
    barrier = threading.Barrier(clients)

    def run() -> None:
        barrier.wait()
        for _ in range(per_client):
            try:
                results.append(one_request(client, prompt, max_tokens))
            except Exception as error:  # noqa: BLE001 - counted and reported, never hidden
                errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"ttfts": [r["ttft_ms"] for r in results], "errors": errors,
            "tokens_per_s": sum(r["tokens"] for r in results) / wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--requests-per-client", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per level; medians reported")
    parser.add_argument("--max-concurrency", type=int, default=2, help="generation slots per replica")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the one-process servers")
    parser.add_argument("--servers", nargs="+", default=["uvicorn", "ray-1", "ray-2"],
                        choices=["uvicorn", "ray-1", "ray-2"], help="measured against legacy, which always runs")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = GPT(GPTConfig.preset("cpu-small"))
    folder = Path(tempfile.mkdtemp(prefix="serve-bench-")) / MODEL
    folder.mkdir()
    checkpoint = folder / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "config": dataclasses.asdict(model.config),
                "tokenizer": {"name": "gpt2", "ranks_path": str(SHARED / "tokenizers" / "gpt2.tiktoken"),
                              "pattern": GPT2_PATTERN, "special_tokens": {}}}, checkpoint)
    prompt = torch.randint(0, 4096, (args.prompt_tokens,), generator=torch.Generator().manual_seed(1)).tolist()

    common = ["--model-name", MODEL, "--max-concurrency", str(args.max_concurrency), "--queue-timeout", "600"]
    report: dict[str, object] = {
        "model": "cpu-small (random weights)", "params": model.num_params(), "cores": os.cpu_count(),
        "prompt_tokens": args.prompt_tokens, "max_tokens": args.max_tokens,
        "requests_per_client": args.requests_per_client, "rounds": args.rounds,
        "slots_per_replica": args.max_concurrency, "results": {}}

    def command(name: str, port: int) -> list[str]:
        if name == "legacy":  # no --threads there: torch takes OMP_NUM_THREADS (set below) instead
            return [sys.executable, "-m", "bench.legacy_serve", "--checkpoint", str(checkpoint), "--port", str(port),
                    *common]
        if name == "uvicorn":
            return [sys.executable, "-m", "model.serve", str(checkpoint), "--port", str(port), "--threads",
                    str(args.threads), *common]
        return [sys.executable, "-m", "model.serve", str(checkpoint), "--port", str(port), "--replicas",
                name.split("-")[1], *common]

    # The legacy server stays up for the whole run and is measured in alternating rounds with each new
    # server in turn: on a machine shared with other work, load changes by the minute, and the ratio of two
    # servers is only meaningful when they were measured in the same minutes.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    legacy_port = free_port()
    legacy = Server(command("legacy", legacy_port), legacy_port)
    os.environ.pop("OMP_NUM_THREADS")
    try:
        for name in args.servers:
            port = free_port()
            started = time.perf_counter()
            server = Server(command(name, port), port)
            startup_s = round(time.perf_counter() - started, 1)
            levels, peers = [], []
            try:
                for clients in args.clients:
                    runs: dict[int, list] = {port: [], legacy.port: []}
                    for _ in range(args.rounds):
                        for target in (legacy.port, port):
                            runs[target].append(load(target, clients, args.requests_per_client, prompt,
                                                     args.max_tokens))
                    levels.append(summary(runs[port], clients))
                    peers.append(summary(runs[legacy.port], clients))
            finally:
                server.stop()
            report["results"][name] = {"startup_s": startup_s, "levels": levels, "legacy_same_rounds": peers}
            print(f"{name} (started in {startup_s} s): " + "; ".join(
                f"{lv['clients']} clients: TTFT {lv['ttft_ms_median']} ms, {lv['aggregate_tokens_per_s']} tok/s "
                f"(legacy {peer['ttft_ms_median']} ms, {peer['aggregate_tokens_per_s']} tok/s)"
                + (f", {lv['errors'] + peer['errors']} errors" if lv["errors"] or peer["errors"] else "")
                for lv, peer in zip(levels, peers)), flush=True)
    finally:
        legacy.stop()

    print(json.dumps(report, indent=1))
    print(markdown(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return 0


def markdown(report: dict) -> str:
    lines = ["| server | clients | TTFT median (ms) | TTFT p90 (ms) | aggregate tokens/s | legacy, same rounds: "
             "TTFT median (ms) / tokens/s | tokens/s vs legacy | errors |", "|---|---|---|---|---|---|---|---|"]
    for name, result in report["results"].items():
        for level, peer in zip(result["levels"], result["legacy_same_rounds"]):
            ratio = level["aggregate_tokens_per_s"] / peer["aggregate_tokens_per_s"]
            lines.append(f"| {name} | {level['clients']} | {level['ttft_ms_median']} | {level['ttft_ms_p90']} | "
                         f"{level['aggregate_tokens_per_s']} | {peer['ttft_ms_median']} / "
                         f"{peer['aggregate_tokens_per_s']} | {ratio:.2f}x | {level['errors'] + peer['errors']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
