"""Serving latency of `model.serve` for the cpu-small preset: time to first token and tokens/s, streamed
through the official openai client over 127.0.0.1, one client and then --concurrency clients at once.

Weights are random (latency does not depend on what they say) and the preset is used as is (vocab 4096),
so prompts are sent as token ids below 4096 and decoded with the GPT-2 ranks; sampling is greedy with no
end-of-text stop, so every request generates exactly --max-tokens tokens.

    .venv/bin/python bench/serve_bench.py --prompt-tokens 128 --max-tokens 128
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
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
from model.engine import Engine  # noqa: E402
from model.serve import ServerLimits, make_server  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def one_request(client: openai.OpenAI, prompt: list[int], max_tokens: int) -> dict[str, float]:
    started = time.perf_counter()
    first = None
    chunks = 0
    stream = client.completions.create(model="bench", prompt=prompt, max_tokens=max_tokens, temperature=0,
                                       stream=True, stream_options={"include_usage": True})
    tokens = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].text and first is None:
            first = time.perf_counter()
        chunks += 1
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    done = time.perf_counter()
    return {"ttft_ms": 1000 * ((first or done) - started), "total_s": done - started, "tokens": tokens,
            "decode_tokens_per_s": (tokens - 1) / (done - (first or done)) if tokens > 1 and first else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    model = GPT(GPTConfig.preset("cpu-small"))
    folder = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    torch.save({"model": model.state_dict(), "config": dataclasses.asdict(model.config),
                "tokenizer": {"name": "gpt2", "ranks_path": str(SHARED / "tokenizers" / "gpt2.tiktoken"),
                              "pattern": GPT2_PATTERN, "special_tokens": {}}}, folder / "cpu-small.pt")
    engine = Engine.from_checkpoint(folder / "cpu-small.pt", model_name="bench")
    server = make_server(engine, port=0, limits=ServerLimits(max_concurrency=args.concurrency, queue_timeout_s=600))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key="unused",
                           max_retries=0, timeout=600)
    prompt = torch.randint(0, 4096, (args.prompt_tokens,), generator=torch.Generator().manual_seed(1)).tolist()
    one_request(client, prompt, 8)  # warm-up

    single = [one_request(client, prompt, args.max_tokens) for _ in range(args.repeats)]
    results: list[dict[str, float]] = []
    started = time.perf_counter()
    threads = [threading.Thread(target=lambda: results.append(one_request(client, prompt, args.max_tokens)))
               for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    server.shutdown()

    report = {
        "model": "cpu-small (random weights)", "params": model.num_params(),
        "torch_threads": torch.get_num_threads(),
        "prompt_tokens": args.prompt_tokens, "max_tokens": args.max_tokens,
        "single": {"ttft_ms_median": round(statistics.median(r["ttft_ms"] for r in single), 1),
                   "decode_tokens_per_s_median": round(statistics.median(r["decode_tokens_per_s"] for r in single), 1),
                   "end_to_end_tokens_per_s_median": round(statistics.median(r["tokens"] / r["total_s"]
                                                                              for r in single), 1)},
        "concurrent": {"clients": args.concurrency,
                       "ttft_ms_median": round(statistics.median(r["ttft_ms"] for r in results), 1),
                       "aggregate_tokens_per_s": round(sum(r["tokens"] for r in results) / wall, 1)},
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
