"""The OpenAI API's side of the server: request validation (which parameters, which values, OpenAI's error
shape) and response shaping (completion, chat and streaming chunk bodies, usage). No HTTP and no model
here: ``model.serve`` moves these bodies over HTTP, ``model.engine`` generates the text.

Errors follow OpenAI's shape, {"error": {"message", "type", "param", "code"}}, with 4xx statuses the
official client maps to its exception classes (400 -> BadRequestError, 404 -> NotFoundError, ...).
"""

from __future__ import annotations

import json
import math
import reprlib
from typing import Any

from model.engine import Engine, Sampling
from model.templates import chat_prompt, validate_messages

MAX_STOP_SEQUENCES = 4  # as OpenAI
DEFAULT_COMPLETION_TOKENS = 16  # OpenAI's default for /v1/completions
MAX_JSON_DEPTH = 32  # far deeper than any OpenAI request (chat content parts are 4 levels down)
SEED_RANGE = (-(1 << 63), (1 << 64) - 1)  # what torch.Generator.manual_seed accepts
_short = reprlib.Repr()
_short.maxlevel, _short.maxstring, _short.maxother, _short.maxlong = 3, 60, 60, 40
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


# ---- request validation -------------------------------------------------------------------------------

def short(value: Any) -> str:
    """A value for an error message: cut to a few dozen characters however long or deep it is."""
    return _short.repr(value)


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object, or a 400 naming what is wrong: not JSON, not UTF-8, integers past
    Python's 4,300-digit conversion limit, nesting deeper than MAX_JSON_DEPTH, or not an object."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise APIError(400, "request body is nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise APIError(400, f"request body is not valid JSON: {error}") from None
    except ValueError:  # Python's integer-digits limit (CVE-2020-10735), the only other ValueError
        raise APIError(400, "request body holds an integer with more than 4300 digits") from None
    if not isinstance(body, dict):
        raise APIError(400, "request body must be a JSON object")
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:  # iterative: a deep body must not cost the server its own recursion limit
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise APIError(400, f"request body is nested more than {MAX_JSON_DEPTH} levels deep")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return body


def check_params(body: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise APIError(400, f"Unrecognized request argument supplied: {', '.join(unknown)}", param=unknown[0])
    for name, neutral in NEUTRAL_PARAMS.items():
        if name in body and body[name] not in neutral:
            raise APIError(400, f"{name}={short(body[name])} is not supported by this server", param=name,
                           code="unsupported_parameter")


def check_request(body: dict[str, Any], known: set[str], model_name: str) -> None:
    """The parameters every route shares: known names, the served model, stream and stream_options."""
    check_params(body, known)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise APIError(400, "you must provide a model parameter", param="model")
    if model != model_name:
        raise APIError(404, f"The model {short(model)} does not exist; this server serves {model_name!r}",
                       param="model", code="model_not_found")
    if not isinstance(body.get("stream", False), bool):
        raise APIError(400, "stream must be a boolean", param="stream")
    options = body.get("stream_options")
    if options is not None and (not body.get("stream") or not isinstance(options, dict)):
        raise APIError(400, "stream_options is only allowed with stream=true and must be an object",
                       param="stream_options")


def chat_request(engine: Engine, body: dict[str, Any]) -> tuple[list[int], Sampling]:
    """The prompt ids (messages under the engine's template) and sampling settings of a chat request."""
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
    return ids, sampling


def number(body: dict[str, Any], name: str, default: float, low: float, high: float,
           low_open: bool = False) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):  # isfinite(10**400) would overflow
        raise APIError(400, f"{name} must be a number, got {short(value)}", param=name)
    if value < low or value > high or (low_open and value == low):
        interval = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise APIError(400, f"{name} must be in {interval}, got {short(value)}", param=name)
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
        raise APIError(400, f"{max_name} must be a positive integer, got {short(max_tokens)}", param=max_name)
    if prompt_tokens + max_tokens > context_length:
        raise APIError(400, f"This model's maximum context length is {context_length} tokens. However, you "
                       f"requested {short(prompt_tokens + max_tokens)} tokens ({prompt_tokens} in the prompt, "
                       f"{short(max_tokens)} for the completion). Reduce the prompt or {max_name}.",
                       param=max_name, code="context_length_exceeded")
    stop = body.get("stop")
    stop = [] if stop is None else [stop] if isinstance(stop, str) else stop
    if (not isinstance(stop, list) or len(stop) > MAX_STOP_SEQUENCES
            or not all(isinstance(s, str) and s for s in stop)):
        raise APIError(400, f"stop must be a non-empty string or a list of at most {MAX_STOP_SEQUENCES} "
                       "non-empty strings", param="stop")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not SEED_RANGE[0] <= seed <= SEED_RANGE[1]):
        raise APIError(400, f"seed must be an integer in [{SEED_RANGE[0]}, {SEED_RANGE[1]}], got {short(seed)}",
                       param="seed")
    return Sampling(max_tokens=max_tokens, temperature=number(body, "temperature", 1.0, 0.0, 2.0),
                    top_p=number(body, "top_p", 1.0, 0.0, 1.0, low_open=True), stop=tuple(stop), seed=seed)


def completion_prompts(engine: Engine, prompt: Any, max_prompts: int) -> list[tuple[str, list[int]]]:
    """(text, ids) for each prompt of a /v1/completions request: at most ``max_prompts`` of them, as one
    request holds one generation slot for all its prompts in turn."""
    if isinstance(prompt, list) and prompt and all(isinstance(p, (str, list)) for p in prompt) \
            and len(prompt) > max_prompts:
        raise APIError(400, f"a request may carry at most {max_prompts} prompts, this one has {len(prompt)}",
                       param="prompt", code="too_many_prompts")
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


# ---- response shaping ----------------------------------------------------------------------------------

def completion_chunk(base: dict[str, Any], index: int, text: str, finish: str | None) -> dict[str, Any]:
    """One choice of a /v1/completions answer or stream chunk; ``base`` holds id, object, created, model."""
    return {**base, "choices": [{"text": text, "index": index, "logprobs": None, "finish_reason": finish}]}


def chat_chunk(base: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    """One chat.completion.chunk of a stream."""
    return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


def chat_answer(base: dict[str, Any], content: str, finish: str, usage: dict[str, int]) -> dict[str, Any]:
    """The whole (non-streamed) chat.completion body."""
    return {**base, "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": None,
                         "finish_reason": finish}], "usage": with_total(usage)}


def with_total(usage: dict[str, int]) -> dict[str, int]:
    return {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}


def model_card(engine: Engine) -> dict[str, Any]:
    return {"id": engine.model_name, "object": "model", "created": 0, "owned_by": "refinery"}
