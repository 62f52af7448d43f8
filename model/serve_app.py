"""The server's HTTP layer as an ASGI app (FastAPI on Starlette): OpenAI-shaped routes around one
``model.engine.Engine``, run by uvicorn in one process (``model.serve``) or in each Ray Serve replica
(``model.serve_ray``).

What the framework parses (HTTP framing, chunked bodies, keep-alive) is not hand-written here; what an
OpenAI server must bound on top of it is:

* bodies: at most ``max_body_bytes`` counted as they arrive, whatever Content-Length says (a declared
  length over the cap is refused before reading; a body that stalls gets a 408 after ``body_timeout_s``);
* framing: a request uvicorn's HTTP parser refuses (``Content-Length: -1``, two Content-Lengths, one beside
  ``Transfer-Encoding``, an unknown transfer coding, a bad chunk size, a broken request line) never reaches
  the app; ``uvicorn_config`` runs uvicorn with ``OpenAIErrors`` protocols, whose 400 is OpenAI's JSON;
* JSON: invalid text, integers beyond Python's digit limit, deep nesting and wrong types are 400s
  (``model.openai_api.parse_body``), and every error, for every method and route, is OpenAI's JSON shape;
* work: at most ``max_concurrency`` requests generate at once; others wait ``queue_timeout_s`` for a slot,
  then get a 429; a completion request carries at most ``max_prompts`` prompts;
* clients that leave: generation runs in a worker thread that stops before its next forward pass once the
  client has gone (a disconnect seen by the server, or Ray Serve cancelling the request), freeing the slot.

An optional API key (as vLLM's --api-key) guards the /v1 routes; /health stays open for probes.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import h11
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from model.engine import Engine, Sampling
from model.openai_api import (CHAT_PARAMS, COMPLETION_PARAMS, DEFAULT_COMPLETION_TOKENS, APIError, chat_answer,
                              chat_chunk, chat_request, check_request, completion_chunk, completion_prompts,
                              model_card, parse_body, sampling_from, with_total)

log = logging.getLogger("model.serve")
T = TypeVar("T")
Event = tuple[int, str, "str | None", int]  # prompt index, text delta, finish reason or None, tokens so far


@dataclass(frozen=True)
class ServerLimits:
    max_body_bytes: int = 1 << 20
    max_concurrency: int = 2
    queue_timeout_s: float = 30.0
    max_prompts: int = 16
    body_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if min(self.max_body_bytes, self.max_concurrency, self.max_prompts) < 1:
            raise ValueError("max_body_bytes, max_concurrency and max_prompts must be positive")
        if self.queue_timeout_s <= 0 or self.body_timeout_s <= 0:
            raise ValueError("queue_timeout_s and body_timeout_s must be positive")


class Run:
    """One request's generation, in a worker thread: its events reach the event loop through a queue.
    ``cancel`` (set when the consumer stops early) ends the work before the next forward pass."""

    def __init__(self, engine: Engine, jobs: list[tuple[list[int], Sampling]], release: Callable[[bool], None],
                 executor: ThreadPoolExecutor) -> None:
        self.cancel = threading.Event()
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.engine, self.jobs, self.release = engine, jobs, release
        executor.submit(self.work)

    def put(self, kind: str, value: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, (kind, value))
        except RuntimeError:  # the loop is closed: the server is shutting down, nobody is listening
            pass

    def work(self) -> None:
        outcome: tuple[str, Any] = ("done", None)
        stopped_early = False
        try:
            for index, (ids, sampling) in enumerate(self.jobs):
                finish, n = None, 0
                for delta, finish, n in self.engine.stream_text(ids, sampling, self.cancel):
                    self.put("event", (index, delta, finish, n))
                # Only a cancel ends a generation short of max_tokens without a stop; then skip the rest.
                stopped_early = finish == "length" and n < sampling.max_tokens
                if stopped_early or self.cancel.is_set():
                    break
        except BaseException as error:  # noqa: BLE001 - handed to the request, which answers 500
            outcome = ("error", error)
        finally:
            # The slot is given back before the last message is queued (callbacks run in order), so a
            # client that sends its next request as soon as this one ends never finds it still held.
            try:
                self.loop.call_soon_threadsafe(self.release, stopped_early)
            except RuntimeError:
                pass
            self.put(*outcome)

    async def events(self) -> AsyncIterator[Event]:
        try:
            while True:
                kind, value = await self.queue.get()
                if kind == "event":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            self.cancel.set()  # a no-op once the work is done; stops it when the consumer left early


class Generations:
    """Generation slots (an asyncio semaphore, bound to the serving loop on first use: the loop is never
    blocked waiting) and the worker threads that run the engine."""

    def __init__(self, engine: Engine, limits: ServerLimits) -> None:
        self.engine, self.limits = engine, limits
        self.slots = asyncio.Semaphore(limits.max_concurrency)
        self.executor = ThreadPoolExecutor(limits.max_concurrency, thread_name_prefix="generate")
        # For /health: slots held, requests waiting for one, generations stopped because the client left.
        self.busy = self.waiting = self.cancelled = 0

    async def start(self, jobs: list[tuple[list[int], Sampling]]) -> Run:
        self.waiting += 1
        try:
            await asyncio.wait_for(self.slots.acquire(), self.limits.queue_timeout_s)
        except TimeoutError:
            raise APIError(429, f"the server is busy ({self.limits.max_concurrency} requests generating); "
                           "retry shortly", code="server_busy", kind="rate_limit_error") from None
        finally:
            self.waiting -= 1
        self.busy += 1
        try:
            return Run(self.engine, jobs, self.release, self.executor)
        except BaseException:
            self.release()
            raise

    def release(self, stopped_early: bool = False) -> None:
        self.busy -= 1
        self.cancelled += stopped_early
        self.slots.release()


class ClientGone(Exception):
    """The client disconnected before its answer was ready."""


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """``work``'s result, or ClientGone (with ``work`` cancelled) if the client disconnects first. Only for
    requests whose body has been read: the next ASGI message is then the disconnect."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(wait_for_disconnect(request.receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, watcher):
            if not pending.done():
                pending.cancel()
    if task.done() and not task.cancelled():
        return task.result()
    # The client left: wait for the cancelled work to unwind (its finally blocks stop the generation).
    await asyncio.gather(task, return_exceptions=True)
    raise ClientGone


async def wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def read_body(request: Request, limits: ServerLimits) -> dict[str, Any]:
    """The JSON object of a request, read with the body cap counted on the bytes that arrive."""
    declared = request.headers.get("content-length", "")
    too_large = APIError(413, f"request body is over {limits.max_body_bytes} bytes, the most this server "
                         "accepts", code="request_too_large")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise too_large
    body = bytearray()

    async def collect() -> None:
        try:
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > limits.max_body_bytes:
                    raise too_large
        except ClientDisconnect:  # it left mid-body: nobody reads the answer, but it must not be a 500
            raise APIError(400, "the client disconnected before sending the whole body") from None

    try:
        await asyncio.wait_for(collect(), limits.body_timeout_s)
    except TimeoutError:
        raise APIError(408, f"the request body did not arrive within {limits.body_timeout_s:g} s",
                       code="request_timeout") from None
    return parse_body(bytes(body))


def error_response(error: APIError, headers: dict[str, str] | None = None) -> JSONResponse:
    if error.status in (408, 413):  # the rest of the body may still be on its way: don't read it as a request
        headers = {**(headers or {}), "Connection": "close"}
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


class RequireAPIKey:
    """ASGI middleware: /v1 routes need ``Authorization: Bearer <key>`` (compared in constant time)."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app, self.expected = app, f"Bearer {api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1"):
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                error = APIError(401, "Incorrect API key provided: send it as 'Authorization: Bearer <key>'",
                                 code="invalid_api_key")
                await error_response(error, {"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)


class EventStream(StreamingResponse):
    """Server-sent events whose generation is cancelled however the response ends (finished, client gone,
    the task cancelled), even when the body iterator never started."""

    def __init__(self, content: AsyncIterator[str], run: Run) -> None:
        super().__init__(content, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        self.run = run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.run.cancel.set()


def sse(payload: dict[str, Any] | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def build_app(engine: Engine, limits: ServerLimits | None = None, api_key: str | None = None,
              replica: str = "main") -> FastAPI:
    """The OpenAI-shaped app for ``engine``; ``replica`` names this copy in /health (Ray Serve replicas)."""
    limits = limits or ServerLimits()
    app = FastAPI(title="refinery", docs_url=None, redoc_url=None, openapi_url=None)
    if api_key:
        app.add_middleware(RequireAPIKey, api_key=api_key)
    app.state.generations = generations = Generations(engine, limits)

    @app.exception_handler(APIError)
    async def api_error(_: Request, error: APIError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 405:
            message, code = f"method {request.method} is not allowed on {request.url.path}", "method_not_allowed"
        elif error.status_code == 404:
            message, code = f"no route {request.method} {request.url.path}", "not_found"
        else:
            message, code = str(error.detail), None
        return error_response(APIError(error.status_code, message, code=code), dict(error.headers or {}))

    @app.exception_handler(Exception)
    async def server_error(_: Request, error: Exception) -> JSONResponse:  # a bug costs one request
        log.error("request failed", exc_info=error)
        return error_response(APIError(500, f"internal error: {type(error).__name__}", kind="server_error"))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "replica": replica, "generating": generations.busy, "waiting": generations.waiting,
                "cancelled": generations.cancelled}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card(engine)]}

    @app.get("/v1/models/{name:path}")
    async def model(name: str) -> dict[str, Any]:
        if name != engine.model_name:
            raise APIError(404, f"The model {name[:100]!r} does not exist", param="model", code="model_not_found")
        return model_card(engine)

    async def answer(request: Request, jobs: list[tuple[list[int], Sampling]],
                     respond: Callable[[list[Event]], dict[str, Any]]) -> JSONResponse:
        async def generate() -> list[Event]:
            run = await generations.start(jobs)
            return [event async for event in run.events()]

        try:
            events = await unless_disconnected(request, generate())
        except ClientGone:
            log.info("client went away; generation stopped")
            return JSONResponse({}, status_code=499)  # nobody reads it
        return JSONResponse(respond(events))

    async def stream(request: Request, jobs: list[tuple[list[int], Sampling]],
                     chunks: Callable[[Run], AsyncIterator[str]]) -> StreamingResponse | JSONResponse:
        try:
            run = await unless_disconnected(request, generations.start(jobs))
        except ClientGone:
            return JSONResponse({}, status_code=499)  # it left while waiting for a slot: nobody reads this
        return EventStream(chunks(run), run)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        body = await read_body(request, limits)
        check_request(body, COMPLETION_PARAMS, engine.model_name)
        if "prompt" not in body:
            raise APIError(400, "you must provide a prompt parameter", param="prompt")
        prompts = completion_prompts(engine, body["prompt"], limits.max_prompts)
        echo = body.get("echo", False)
        if not isinstance(echo, bool):
            raise APIError(400, "echo must be a boolean", param="echo")
        jobs = [(ids, sampling_from(body, len(ids), engine.context_length, DEFAULT_COMPLETION_TOKENS))
                for _, ids in prompts]
        base = {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": engine.model_name}
        prompt_tokens = sum(len(ids) for _, ids in prompts)

        if body.get("stream"):
            async def chunks(run: Run) -> AsyncIterator[str]:
                completion_tokens, echoed = 0, set()
                async for index, delta, finish, n in run.events():
                    if echo and index not in echoed:
                        echoed.add(index)
                        yield sse(completion_chunk(base, index, prompts[index][0], None))
                    if delta or finish:
                        yield sse(completion_chunk(base, index, delta, finish))
                    if finish:
                        completion_tokens += n
                for end in (usage_chunk(body, base, prompt_tokens, completion_tokens), sse("[DONE]")):
                    if end:
                        yield end
            return await stream(request, jobs, chunks)

        def respond(events: list[Event]) -> dict[str, Any]:
            texts = [prompts[i][0] if echo else "" for i in range(len(prompts))]
            finishes, counts = ["length"] * len(prompts), [0] * len(prompts)
            for index, delta, finish, n in events:
                texts[index] += delta
                finishes[index], counts[index] = finish or finishes[index], n
            choices = [{"text": text, "index": i, "logprobs": None, "finish_reason": finish}
                       for i, (text, finish) in enumerate(zip(texts, finishes))]
            return {**base, "choices": choices,
                    "usage": with_total({"prompt_tokens": prompt_tokens, "completion_tokens": sum(counts)})}
        return await answer(request, jobs, respond)

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await read_body(request, limits)
        check_request(body, CHAT_PARAMS, engine.model_name)
        ids, sampling = chat_request(engine, body)
        base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": engine.model_name}

        if body.get("stream"):
            async def chunks(run: Run) -> AsyncIterator[str]:
                yield sse(chat_chunk(base, {"role": "assistant", "content": ""}, None))
                n = 0
                async for _, delta, finish, n in run.events():
                    if delta:
                        yield sse(chat_chunk(base, {"content": delta}, None))
                    if finish:
                        yield sse(chat_chunk(base, {}, finish))
                for end in (usage_chunk(body, base, len(ids), n), sse("[DONE]")):
                    if end:
                        yield end
            return await stream(request, [(ids, sampling)], chunks)

        def respond(events: list[Event]) -> dict[str, Any]:
            content = "".join(delta for _, delta, _, _ in events)
            finish = next((f for _, _, f, _ in reversed(events) if f), "length")
            n = events[-1][3] if events else 0
            return chat_answer(base, content, finish, {"prompt_tokens": len(ids), "completion_tokens": n})
        return await answer(request, [(ids, sampling)], respond)

    return app


def usage_chunk(body: dict[str, Any], base: dict[str, Any], prompt_tokens: int, completion_tokens: int) -> str:
    """The stream's usage chunk when stream_options.include_usage asks for it, else nothing."""
    if not (body.get("stream_options") or {}).get("include_usage"):
        return ""
    usage = with_total({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens})
    return sse({**base, "choices": [], "usage": usage})


# ---- HTTP framing errors -------------------------------------------------------------------------------
#
# Why at the protocol level: uvicorn feeds the bytes to its parser (httptools' llhttp, or h11) and answers a
# request the parser refuses with its own text/plain 400 from the protocol's ``send_400_response``; no
# ASGI scope exists yet (the headers never parsed), or, for a bad chunk, the app is still waiting for the
# body, so no middleware or exception handler can see it. The parser's refusal itself is right (RFC 9112
# 6.3: a request whose length cannot be determined is a 400 and the connection must close, which also
# means the rest of a ``Content-Length: -1`` body is never read), so only the answer's shape changes: the
# subclasses below override that one method, keep uvicorn's parsing and closing, and say what the parser
# found. They are passed as ``uvicorn.Config(http=...)``, the protocol-class option uvicorn documents.

FRAMING_ERROR_CODE = "invalid_http_request"


def framing_error_body(reason: str) -> bytes:
    """The OpenAI-shaped 400 for a request whose HTTP framing the parser refused."""
    message = (f"malformed HTTP request ({reason[:200]}): check the request line, Content-Length (one "
               "non-negative integer) and Transfer-Encoding (chunked, without Content-Length)")
    return json.dumps(APIError(400, message, code=FRAMING_ERROR_CODE).body()).encode()


def parser_reason(fallback: str) -> str:
    """The parser's own words for the refusal: ``send_400_response`` is called inside uvicorn's ``except``
    block for the parser error, so it is the exception being handled."""
    error = sys.exc_info()[1]
    return str(error) if error is not None and str(error) else fallback


def _responding(cycle: Any) -> bool:
    """Whether the app has started but not finished an answer on this connection: a second response
    cannot follow it, so only closing is left."""
    return cycle is not None and cycle.response_started and not cycle.response_complete


class OpenAIErrorsH11(H11Protocol):
    """uvicorn's h11 protocol whose parser-level 400 is OpenAI's JSON error."""

    def send_400_response(self, msg: str) -> None:
        if _responding(getattr(self, "cycle", None)):
            self.transport.close()
            return
        body = framing_error_body(parser_reason(msg))
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()


try:  # the protocol uvicorn's "auto" picks: httptools where it is installed (the faster parser), else h11
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is optional for uvicorn
    OpenAIErrors: type = OpenAIErrorsH11
else:
    class OpenAIErrorsHttpTools(HttpToolsProtocol):
        """uvicorn's httptools protocol whose parser-level 400 is OpenAI's JSON error."""

        def send_400_response(self, msg: str) -> None:
            if _responding(self.cycle):
                self.transport.close()
                return
            body = framing_error_body(parser_reason(msg))
            content = [STATUS_LINE[400]]
            for name, value in self.server_state.default_headers:  # server and date, as uvicorn sends
                content.extend([name, b": ", value, b"\r\n"])
            content.extend([b"content-type: application/json\r\n",
                            b"content-length: " + str(len(body)).encode() + b"\r\n",
                            b"connection: close\r\n\r\n", body])
            self.transport.write(b"".join(content))
            self.transport.close()

    OpenAIErrors = OpenAIErrorsHttpTools


def uvicorn_config(app: ASGIApp, protocol: type | None = None, **options: Any) -> uvicorn.Config:
    """uvicorn's config for serving ``app`` with every error, framing errors included, in OpenAI's shape;
    ``protocol`` picks one of the two parsers (default: httptools where installed, as uvicorn's own)."""
    return uvicorn.Config(app, http=protocol or OpenAIErrors, **options)
