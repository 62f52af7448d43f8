"""An HTTP server with OpenAI-compatible /v1/completions and /v1/chat/completions for one checkpoint.

    python -m model.serve --checkpoint runs/instruct/checkpoint.pt --port 8000

then any OpenAI client works against it: `OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused")`.
Supported: max_tokens (max_completion_tokens for chat), temperature, top_p, stop (up to 4 strings), seed,
echo, stream (server-sent events in OpenAI's chunk format, with stream_options.include_usage), prompt as a
string, a list of strings or a list of token ids. Chat prompts use the checkpoint's "prompt_template"
(see `model.templates`; "plain" for a model never instruction-tuned).

Why the standard library's ThreadingHTTPServer and not FastAPI/uvicorn: the server is a thin shell around
one model whose forward passes bound throughput, so an async framework buys nothing here, and a runtime
dependency (and its upgrades) would cost something. Its weak points are handled explicitly: request bodies
are capped (413), at most --max-concurrency requests generate at once and others wait --queue-timeout
seconds before a 429, and a socket timeout drops clients that stall mid-request.

Errors follow OpenAI's shape, {"error": {"message", "type", "param", "code"}}, with 4xx statuses the
official client maps to its exception classes (400 -> BadRequestError, 404 -> NotFoundError, ...).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Sequence

import tiktoken
import torch

from model.checkpoint_io import BAD_CHECKPOINT_ERRORS, exit_with_error, load_checkpoint
from model.generate import build_tokenizer, end_of_text_id, sample_next
from model.gpt import GPT
from model.templates import TEMPLATES, chat_prompt, validate_messages

log = logging.getLogger("model.serve")

MAX_STOP_SEQUENCES = 4  # as OpenAI
DEFAULT_COMPLETION_TOKENS = 16  # OpenAI's default for /v1/completions
# Accepted for compatibility when they ask for nothing we would do differently; other values are a 400.
NEUTRAL_PARAMS = {"n": (None, 1), "best_of": (None, 1), "logprobs": (None, False), "presence_penalty": (None, 0),
                  "frequency_penalty": (None, 0), "logit_bias": (None, {}), "suffix": (None, ""),
                  "top_logprobs": (None, 0), "parallel_tool_calls": (None,), "tools": (None, []),
                  "tool_choice": (None, "none"), "response_format": (None, {"type": "text"})}
COMMON_PARAMS = {"model", "max_tokens", "temperature", "top_p", "stop", "stream", "stream_options", "seed",
                 "user", "metadata", "store", *NEUTRAL_PARAMS}
COMPLETION_PARAMS = COMMON_PARAMS | {"prompt", "echo"}
CHAT_PARAMS = COMMON_PARAMS | {"messages", "max_completion_tokens"}


class APIError(Exception):
    """A request we refuse: HTTP status plus OpenAI's error fields."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class Sampling:
    """One validated request's generation settings."""

    max_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]
    seed: int | None


@dataclass
class Engine:
    """The model, its tokenizer and template; every request gets its own KV cache, so requests share nothing
    mutable and may run in parallel threads."""

    model: GPT
    encoding: tiktoken.Encoding
    end_of_text: int | None
    template: str
    model_name: str

    @classmethod
    def from_checkpoint(cls, path: str | Path, model_name: str | None = None, template: str | None = None,
                        ranks_path: str | Path | None = None, device: str = "cpu") -> Engine:
        model, checkpoint = load_checkpoint(path)
        if "tokenizer" not in checkpoint:
            raise KeyError(f"checkpoint {path} has no 'tokenizer' entry, so requests cannot be tokenized")
        template = template or checkpoint.get("prompt_template") or "plain"
        if template not in TEMPLATES:
            raise ValueError(f"unknown prompt template {template!r}; choose one of {TEMPLATES}")
        return cls(model=model.to(device).eval(), encoding=build_tokenizer(checkpoint["tokenizer"], ranks_path),
                   end_of_text=end_of_text_id(checkpoint["tokenizer"]),
                   template=template, model_name=model_name or Path(path).parent.name or Path(path).stem)

    @property
    def context_length(self) -> int:
        return self.model.config.context_length

    @torch.inference_mode()
    def tokens(self, prompt_ids: list[int], sampling: Sampling) -> Iterator[int]:
        """Sampled token ids, one at a time, using a KV cache. Callers make sure prompt + max_tokens fit the
        context, so the cache never overflows."""
        device = self.model.tok_emb.weight.device
        generator = torch.Generator(device=device)
        if sampling.seed is not None:
            generator.manual_seed(sampling.seed)
        else:
            generator.seed()
        cache = self.model.new_kv_cache(1)
        pending = torch.tensor([prompt_ids], dtype=torch.long, device=device)
        for _ in range(sampling.max_tokens):
            logits, _ = self.model(pending, kv_cache=cache)
            pending = sample_next(logits[:, -1, :], sampling.temperature, None,
                                  sampling.top_p if sampling.top_p < 1.0 else None, generator)
            yield int(pending[0, 0])

    def stream_text(self, prompt_ids: list[int], sampling: Sampling) -> Iterator[tuple[str, str | None, int]]:
        """(text delta, finish reason or None, tokens generated so far) as generation goes.

        Text is held back while it ends in an incomplete UTF-8 character or in what may be the start of a
        stop sequence, so no stop sequence is ever sent, even split across tokens. The finish reason comes
        with the last delta: "stop" (end-of-text or a stop sequence) or "length" (max_tokens reached).
        """
        generated: list[int] = []
        sent = 0  # characters of the decoded text already yielded
        text = ""
        for token in self.tokens(prompt_ids, sampling):
            if token == self.end_of_text:
                yield text[sent:], "stop", len(generated) + 1
                return
            generated.append(token)
            if token >= self.encoding.n_vocab:
                continue  # a padded vocabulary slot: no text
            text = self.encoding.decode([t for t in generated if t < self.encoding.n_vocab])
            if text.endswith("\ufffd"):
                continue  # a character split across tokens: wait for the rest
            hits = [i for i in (text.find(s, max(0, sent - len(s))) for s in sampling.stop) if i >= 0]
            if hits:
                yield text[sent:max(sent, min(hits))], "stop", len(generated)
                return
            held = max((k for s in sampling.stop for k in range(1, len(s)) if text.endswith(s[:k])), default=0)
            if len(text) - held > sent:
                yield text[sent:len(text) - held], None, len(generated)
                sent = len(text) - held
        yield text[sent:], "length", len(generated)


# ---- request validation -------------------------------------------------------------------------------

def check_params(body: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise APIError(400, f"Unrecognized request argument supplied: {', '.join(unknown)}", param=unknown[0])
    for name, neutral in NEUTRAL_PARAMS.items():
        if name in body and body[name] not in neutral:
            raise APIError(400, f"{name}={body[name]!r} is not supported by this server", param=name,
                           code="unsupported_parameter")


def number(body: dict[str, Any], name: str, default: float, low: float, high: float,
           low_open: bool = False) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise APIError(400, f"{name} must be a number, got {value!r}", param=name)
    if value < low or value > high or (low_open and value == low):
        interval = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise APIError(400, f"{name} must be in {interval}, got {value}", param=name)
    return float(value)


def sampling_from(body: dict[str, Any], prompt_tokens: int, context_length: int, default_max: int | None,
                  max_name: str = "max_tokens") -> Sampling:
    """Validated sampling settings; max_tokens defaults to default_max, or all the room the context has."""
    room = context_length - prompt_tokens
    if room <= 0:
        raise APIError(400, f"This model's maximum context length is {context_length} tokens, but the prompt "
                       f"is {prompt_tokens} tokens. Shorten the prompt.", param="prompt",
                       code="context_length_exceeded")
    max_tokens = body.get(max_name, body.get("max_tokens"))
    if max_tokens is None:
        max_tokens = min(default_max, room) if default_max is not None else room
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise APIError(400, f"{max_name} must be a positive integer, got {max_tokens!r}", param=max_name)
    if prompt_tokens + max_tokens > context_length:
        raise APIError(400, f"This model's maximum context length is {context_length} tokens. However, you "
                       f"requested {prompt_tokens + max_tokens} tokens ({prompt_tokens} in the prompt, "
                       f"{max_tokens} for the completion). Reduce the prompt or {max_name}.",
                       param=max_name, code="context_length_exceeded")
    stop = body.get("stop")
    stop = [] if stop is None else [stop] if isinstance(stop, str) else stop
    if (not isinstance(stop, list) or len(stop) > MAX_STOP_SEQUENCES
            or not all(isinstance(s, str) and s for s in stop)):
        raise APIError(400, f"stop must be a non-empty string or a list of at most {MAX_STOP_SEQUENCES} "
                       "non-empty strings", param="stop")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise APIError(400, f"seed must be an integer, got {seed!r}", param="seed")
    return Sampling(max_tokens=max_tokens, temperature=number(body, "temperature", 1.0, 0.0, 2.0),
                    top_p=number(body, "top_p", 1.0, 0.0, 1.0, low_open=True), stop=tuple(stop), seed=seed)


def completion_prompts(engine: Engine, prompt: Any) -> list[tuple[str, list[int]]]:
    """(text, ids) for each prompt of a /v1/completions request."""
    def ids_of(text: str) -> list[int]:
        ids = engine.encoding.encode(text, allowed_special="all")
        if not ids:  # an empty prompt starts a new document, as in model.generate
            if engine.end_of_text is None:
                raise APIError(400, "empty prompt, and the tokenizer has no end-of-text token to start from",
                               param="prompt")
            ids = [engine.end_of_text]
        return ids

    def check_ids(ids: list[Any]) -> list[int]:
        vocab = engine.model.config.vocab_size
        if not ids or not all(isinstance(t, int) and not isinstance(t, bool) and 0 <= t < vocab for t in ids):
            raise APIError(400, f"token-id prompts must be non-empty lists of ids in "
                           f"[0, {engine.model.config.vocab_size})", param="prompt")
        return ids

    if isinstance(prompt, str):
        return [(prompt, ids_of(prompt))]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return [(p, ids_of(p)) for p in prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt):
        ids = check_ids(prompt)
        return [(engine.encoding.decode([t for t in ids if t < engine.encoding.n_vocab]), ids)]
    if isinstance(prompt, list) and prompt and all(isinstance(p, list) for p in prompt):
        return [(engine.encoding.decode([t for t in check_ids(p) if t < engine.encoding.n_vocab]), p)
                for p in prompt]
    raise APIError(400, "prompt must be a string, a list of strings, a list of token ids or a list of such "
                   "lists", param="prompt")


# ---- HTTP ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerLimits:
    max_body_bytes: int = 1 << 20
    max_concurrency: int = 2
    queue_timeout_s: float = 5.0
    socket_timeout_s: float = 30.0


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client thread never keeps the process alive at shutdown

    def __init__(self, address: tuple[str, int], engine: Engine, limits: ServerLimits) -> None:
        super().__init__(address, Handler)
        self.engine, self.limits = engine, limits
        self.slots = threading.BoundedSemaphore(limits.max_concurrency)


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"  # keep-alive for JSON replies; streams close the connection at the end

    def setup(self) -> None:
        self.timeout = self.server.limits.socket_timeout_s
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)

    # -- plumbing

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, error: APIError) -> None:
        self.send_json(error.status, error.body())

    def read_body(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked" or length is None:
            self.close_connection = True
            raise APIError(411, "send the request body with a Content-Length header", code="length_required")
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise APIError(400, f"bad Content-Length {length!r}") from None
        if size > self.server.limits.max_body_bytes:
            self.close_connection = True  # the unread body would otherwise be parsed as the next request
            raise APIError(413, f"request body is {size} bytes; this server accepts at most "
                           f"{self.server.limits.max_body_bytes}", code="request_too_large")
        raw = self.rfile.read(size)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise APIError(400, f"request body is not valid JSON: {error}") from None
        if not isinstance(body, dict):
            raise APIError(400, "request body must be a JSON object")
        return body

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def send_event(self, payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    # -- routes

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        engine = self.server.engine
        if self.path.rstrip("/") == "/v1/models":
            self.send_json(200, {"object": "list", "data": [model_card(engine)]})
        elif self.path.rstrip("/") == f"/v1/models/{engine.model_name}":
            self.send_json(200, model_card(engine))
        elif self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.send_error_json(APIError(404, f"no route GET {self.path}", code="not_found"))

    def do_POST(self) -> None:  # noqa: N802
        route = {"/v1/completions": self.completions, "/v1/chat/completions": self.chat}.get(self.path.rstrip("/"))
        try:
            if route is None:
                self.close_connection = True  # its body is never read, so the connection cannot be reused
                raise APIError(404, f"no route POST {self.path}; use /v1/completions or /v1/chat/completions",
                               code="not_found")
            body = self.read_body()
            route(body)
        except APIError as error:
            self.send_error_json(error)
        except (BrokenPipeError, ConnectionResetError):
            log.info("client went away")
        except Exception as error:  # a bug must cost one request, not the server
            log.exception("request failed")
            try:
                self.send_error_json(APIError(500, f"internal error: {type(error).__name__}: {error}",
                                              kind="server_error"))
            except OSError:
                pass

    def admit(self, body: dict[str, Any], known: set[str]) -> None:
        check_params(body, known)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise APIError(400, "you must provide a model parameter", param="model")
        if model != self.server.engine.model_name:
            raise APIError(404, f"The model {model!r} does not exist; this server serves "
                           f"{self.server.engine.model_name!r}", param="model", code="model_not_found")
        if not isinstance(body.get("stream", False), bool):
            raise APIError(400, "stream must be a boolean", param="stream")
        options = body.get("stream_options")
        if options is not None and (not body.get("stream") or not isinstance(options, dict)):
            raise APIError(400, "stream_options is only allowed with stream=true and must be an object",
                           param="stream_options")

    def generation_slot(self) -> threading.BoundedSemaphore:
        if not self.server.slots.acquire(timeout=self.server.limits.queue_timeout_s):
            raise APIError(429, f"the server is busy ({self.server.limits.max_concurrency} requests generating); "
                           "retry shortly", code="server_busy", kind="rate_limit_error")
        return self.server.slots

    def completions(self, body: dict[str, Any]) -> None:
        engine = self.server.engine
        self.admit(body, COMPLETION_PARAMS)
        if "prompt" not in body:
            raise APIError(400, "you must provide a prompt parameter", param="prompt")
        prompts = completion_prompts(engine, body["prompt"])
        echo = body.get("echo", False)
        if not isinstance(echo, bool):
            raise APIError(400, "echo must be a boolean", param="echo")
        settings = [sampling_from(body, len(ids), engine.context_length, DEFAULT_COMPLETION_TOKENS)
                    for _, ids in prompts]
        request_id, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())

        def chunk(index: int, text: str, finish: str | None) -> dict[str, Any]:
            return {"id": request_id, "object": "text_completion", "created": created, "model": engine.model_name,
                    "choices": [{"text": text, "index": index, "logprobs": None, "finish_reason": finish}]}

        # The slot is given back as soon as generation ends, before the client can see the end of the answer
        # (a stream's closing events, a JSON reply): a client's next request never finds its own finished
        # one still holding a slot.
        slot = self.generation_slot()
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        choices = []
        try:
            if body.get("stream"):
                self.start_stream()
                for index, ((text, ids), sampling) in enumerate(zip(prompts, settings)):
                    usage["prompt_tokens"] += len(ids)
                    if echo:
                        self.send_event(chunk(index, text, None))
                    for delta, finish, n in engine.stream_text(ids, sampling):
                        if delta or finish:
                            self.send_event(chunk(index, delta, finish))
                        if finish:
                            usage["completion_tokens"] += n
            else:
                for index, ((text, ids), sampling) in enumerate(zip(prompts, settings)):
                    parts, finish, n = collect(engine.stream_text(ids, sampling))
                    usage["prompt_tokens"] += len(ids)
                    usage["completion_tokens"] += n
                    choices.append({"text": (text if echo else "") + parts, "index": index, "logprobs": None,
                                    "finish_reason": finish})
        finally:
            slot.release()
        if body.get("stream"):
            self.finish_stream(body, {"id": request_id, "object": "text_completion", "created": created,
                                      "model": engine.model_name, "choices": []}, usage)
            return
        self.send_json(200, {"id": request_id, "object": "text_completion", "created": created,
                             "model": engine.model_name, "choices": choices, "usage": with_total(usage)})

    def chat(self, body: dict[str, Any]) -> None:
        engine = self.server.engine
        self.admit(body, CHAT_PARAMS)
        try:
            messages = validate_messages(body.get("messages"))
        except ValueError as error:
            raise APIError(400, str(error), param="messages") from None
        ids = engine.encoding.encode_ordinary(chat_prompt(messages, engine.template))
        max_name = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
        try:
            sampling = sampling_from(body, len(ids), engine.context_length, None, max_name)
        except APIError as error:
            if error.param == "prompt":
                error.param = "messages"
            raise
        request_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        base = {"id": request_id, "object": "chat.completion.chunk", "created": created,
                "model": engine.model_name}

        slot = self.generation_slot()  # given back when generation ends, before the answer's end (as above)
        try:
            if body.get("stream"):
                self.start_stream()
                self.send_event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                      "logprobs": None, "finish_reason": None}]})
                n = 0
                for delta, finish, n in engine.stream_text(ids, sampling):
                    if delta:
                        self.send_event({**base, "choices": [{"index": 0, "delta": {"content": delta},
                                                              "logprobs": None, "finish_reason": None}]})
                    if finish:
                        self.send_event({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                                              "finish_reason": finish}]})
            else:
                content, finish, n = collect(engine.stream_text(ids, sampling))
        finally:
            slot.release()
        if body.get("stream"):
            self.finish_stream(body, {**base, "choices": []}, {"prompt_tokens": len(ids), "completion_tokens": n})
            return
        self.send_json(200, {"id": request_id, "object": "chat.completion", "created": created,
                             "model": engine.model_name,
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                          "logprobs": None, "finish_reason": finish}],
                             "usage": with_total({"prompt_tokens": len(ids), "completion_tokens": n})})

    def finish_stream(self, body: dict[str, Any], usage_chunk: dict[str, Any], usage: dict[str, int]) -> None:
        if (body.get("stream_options") or {}).get("include_usage"):
            self.send_event({**usage_chunk, "usage": with_total(usage)})
        self.send_event("[DONE]")


def collect(stream: Iterator[tuple[str, str | None, int]]) -> tuple[str, str, int]:
    """A whole completion from `Engine.stream_text`: text, finish reason, tokens generated."""
    parts, finish, n = [], "length", 0
    for delta, reason, n in stream:
        parts.append(delta)
        finish = reason or finish
    return "".join(parts), finish, n


def with_total(usage: dict[str, int]) -> dict[str, int]:
    return {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}


def model_card(engine: Engine) -> dict[str, Any]:
    return {"id": engine.model_name, "object": "model", "created": 0, "owned_by": "refinery"}


def make_server(engine: Engine, host: str = "127.0.0.1", port: int = 8000,
                limits: ServerLimits | None = None) -> Server:
    """A bound, not yet serving, server (port 0 picks a free port: see `server.server_address`)."""
    return Server((host, port), engine, limits or ServerLimits())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to listen on every interface")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model-name", default=None, help="the 'model' clients must send (default: the "
                        "checkpoint's folder name)")
    parser.add_argument("--template", choices=TEMPLATES, default=None,
                        help="chat template (default: the checkpoint's prompt_template, else plain)")
    parser.add_argument("--max-concurrency", type=int, default=2, help="requests generating at once")
    parser.add_argument("--queue-timeout", type=float, default=5.0, help="seconds a request waits for a slot")
    parser.add_argument("--max-body-bytes", type=int, default=1 << 20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ranks-path", default=None, help="override the checkpoint's tokenizer ranks file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.max_concurrency < 1 or args.max_body_bytes < 1:
        raise SystemExit("error: --max-concurrency and --max-body-bytes must be positive")
    try:
        engine = Engine.from_checkpoint(args.checkpoint, args.model_name, args.template, args.ranks_path,
                                        args.device)
    except BAD_CHECKPOINT_ERRORS as error:
        exit_with_error(error)  # one line, exit 2: a bad checkpoint or input is the user's to fix
    server = make_server(engine, args.host, args.port,
                         ServerLimits(max_body_bytes=args.max_body_bytes, max_concurrency=args.max_concurrency,
                                      queue_timeout_s=args.queue_timeout))
    host, port = server.server_address[:2]
    log.info("serving %r (%s template) on http://%s:%d/v1", engine.model_name, engine.template, host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
