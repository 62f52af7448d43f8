"""The server model.serve was until it moved to FastAPI/uvicorn and Ray Serve: OpenAI-shaped routes on the
standard library's ThreadingHTTPServer with hand-written request parsing. Kept only as the peer that
bench/serve_bench.py measures the current server against, in the same run; nothing else imports it.

Its known faults (issue 16) are kept as they were, since they are what the bench compares with: a body cap
a negative Content-Length bypasses, 500s on some malformed values, no bound on prompts per request,
generation that goes on after its client left, a listen backlog of 5 and HTML errors for other methods.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Sequence

from model.checkpoint_io import BAD_CHECKPOINT_ERRORS, exit_with_error
from model.engine import Engine
from model.openai_api import (CHAT_PARAMS, COMPLETION_PARAMS, DEFAULT_COMPLETION_TOKENS, APIError, chat_answer,
                              chat_chunk, chat_request, check_request, completion_chunk, completion_prompts,
                              model_card, sampling_from, with_total)
from model.templates import TEMPLATES

__all__ = ["Server", "ServerLimits", "Handler", "make_server", "main"]

log = logging.getLogger("bench.legacy_serve")


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

    def generation_slot(self) -> threading.BoundedSemaphore:
        if not self.server.slots.acquire(timeout=self.server.limits.queue_timeout_s):
            raise APIError(429, f"the server is busy ({self.server.limits.max_concurrency} requests generating); "
                           "retry shortly", code="server_busy", kind="rate_limit_error")
        return self.server.slots

    def completions(self, body: dict[str, Any]) -> None:
        engine = self.server.engine
        check_request(body, COMPLETION_PARAMS, engine.model_name)
        if "prompt" not in body:
            raise APIError(400, "you must provide a prompt parameter", param="prompt")
        prompts = completion_prompts(engine, body["prompt"], sys.maxsize)  # unbounded, as it was
        echo = body.get("echo", False)
        if not isinstance(echo, bool):
            raise APIError(400, "echo must be a boolean", param="echo")
        settings = [sampling_from(body, len(ids), engine.context_length, DEFAULT_COMPLETION_TOKENS)
                    for _, ids in prompts]
        base = {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": engine.model_name}

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
                        self.send_event(completion_chunk(base, index, text, None))
                    for delta, finish, n in engine.stream_text(ids, sampling):
                        if delta or finish:
                            self.send_event(completion_chunk(base, index, delta, finish))
                        if finish:
                            usage["completion_tokens"] += n
            else:
                for index, ((text, ids), sampling) in enumerate(zip(prompts, settings)):
                    parts, finish, n = engine.complete(ids, sampling)
                    usage["prompt_tokens"] += len(ids)
                    usage["completion_tokens"] += n
                    choices.append({"text": (text if echo else "") + parts, "index": index, "logprobs": None,
                                    "finish_reason": finish})
        finally:
            slot.release()
        if body.get("stream"):
            self.finish_stream(body, {**base, "choices": []}, usage)
            return
        self.send_json(200, {**base, "choices": choices, "usage": with_total(usage)})

    def chat(self, body: dict[str, Any]) -> None:
        engine = self.server.engine
        check_request(body, CHAT_PARAMS, engine.model_name)
        ids, sampling = chat_request(engine, body)
        base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": engine.model_name}

        slot = self.generation_slot()  # given back when generation ends, before the answer's end (as above)
        try:
            if body.get("stream"):
                self.start_stream()
                self.send_event(chat_chunk(base, {"role": "assistant", "content": ""}, None))
                n = 0
                for delta, finish, n in engine.stream_text(ids, sampling):
                    if delta:
                        self.send_event(chat_chunk(base, {"content": delta}, None))
                    if finish:
                        self.send_event(chat_chunk(base, {}, finish))
            else:
                content, finish, n = engine.complete(ids, sampling)
        finally:
            slot.release()
        if body.get("stream"):
            self.finish_stream(body, {**base, "choices": []}, {"prompt_tokens": len(ids), "completion_tokens": n})
            return
        self.send_json(200, chat_answer(base, content, finish, {"prompt_tokens": len(ids), "completion_tokens": n}))

    def finish_stream(self, body: dict[str, Any], usage_chunk: dict[str, Any], usage: dict[str, int]) -> None:
        if (body.get("stream_options") or {}).get("include_usage"):
            self.send_event({**usage_chunk, "usage": with_total(usage)})
        self.send_event("[DONE]")


def make_server(engine: Engine, host: str = "127.0.0.1", port: int = 8000,
                limits: ServerLimits | None = None) -> Server:
    """A bound, not yet serving, server (port 0 picks a free port: see `server.server_address`)."""
    return Server((host, port), engine, limits or ServerLimits())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/legacy_serve.py", description=__doc__.split("\n\n")[0])
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
                                        args.device, purpose="python -m model.serve")
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
