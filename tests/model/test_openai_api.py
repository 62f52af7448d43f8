"""model.openai_api without HTTP: request validation turns a body into engine settings or an OpenAI-shaped
error naming the parameter; response shaping builds the bodies the server sends."""

from __future__ import annotations

import json

import pytest

from model.engine import Sampling
from model.openai_api import (APIError, COMPLETION_PARAMS, chat_answer, check_request, completion_chunk,
                              parse_body, sampling_from, with_total)


def test_sampling_from_a_valid_body() -> None:
    body = {"max_tokens": 5, "temperature": 0.5, "top_p": 0.9, "stop": "\n", "seed": 3}
    assert sampling_from(body, prompt_tokens=10, context_length=64, default_max=16) == Sampling(
        max_tokens=5, temperature=0.5, top_p=0.9, stop=("\n",), seed=3)
    assert sampling_from({}, 60, 64, 16).max_tokens == 4  # the default, cut to the room the context has


@pytest.mark.parametrize("body, param, code", [
    ({"max_tokens": 0}, "max_tokens", None), ({"temperature": 3}, "temperature", None),
    ({"top_p": 0}, "top_p", None), ({"stop": ["a"] * 5}, "stop", None), ({"seed": 1.5}, "seed", None),
    ({"max_tokens": 60}, "max_tokens", "context_length_exceeded")])
def test_bad_values_name_their_parameter(body, param, code) -> None:
    with pytest.raises(APIError) as caught:
        sampling_from(body, 10, 64, 16)
    assert caught.value.status == 400 and caught.value.param == param and caught.value.code == code
    assert caught.value.body()["error"]["param"] == param


def test_check_request() -> None:
    check_request({"model": "m", "prompt": "x"}, COMPLETION_PARAMS, "m")
    with pytest.raises(APIError, match="Unrecognized request argument supplied: bogus"):
        check_request({"model": "m", "bogus": 1}, COMPLETION_PARAMS, "m")
    with pytest.raises(APIError) as caught:
        check_request({"model": "other"}, COMPLETION_PARAMS, "m")
    assert caught.value.status == 404 and caught.value.code == "model_not_found"
    with pytest.raises(APIError, match="n=2 is not supported"):
        check_request({"model": "m", "n": 2}, COMPLETION_PARAMS, "m")


def test_response_shapes() -> None:
    base = {"id": "x", "object": "text_completion", "created": 0, "model": "m"}
    assert completion_chunk(base, 1, "hi", "stop")["choices"] == [
        {"text": "hi", "index": 1, "logprobs": None, "finish_reason": "stop"}]
    answer = chat_answer({**base, "object": "chat.completion.chunk"}, "hello", "length",
                         {"prompt_tokens": 3, "completion_tokens": 2})
    assert answer["object"] == "chat.completion" and answer["usage"]["total_tokens"] == 5
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "hello"}
    assert with_total({"prompt_tokens": 1, "completion_tokens": 1})["total_tokens"] == 2


@pytest.mark.parametrize("raw, fragment", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),  # past the decoder's own recursion limit
    (b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", "more than 32 levels"),
    (b'{"a": ' + b"1" * 5000 + b"}", "4300 digits"),
    (b'{"a": 1', "not valid JSON"),
    (b"\xff\xfe\xfd", "not valid JSON"),
    (b'"text"', "JSON object")])
def test_parse_body_refuses_with_a_400(raw, fragment) -> None:
    with pytest.raises(APIError, match=fragment) as caught:
        parse_body(raw)
    assert caught.value.status == 400


def test_parse_body_accepts_ordinary_nesting() -> None:
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}
    assert parse_body(json.dumps(body).encode()) == body


@pytest.mark.parametrize("seed, ok", [(0, True), (-(2 ** 63), True), (2 ** 64 - 1, True), (2 ** 64, False),
                                      (-(2 ** 63) - 1, False), (2 ** 70, False)])
def test_seeds_are_bounded_to_what_torch_accepts(seed, ok) -> None:
    import torch

    if ok:
        sampling = sampling_from({"seed": seed}, 1, 64, 4)
        torch.Generator().manual_seed(sampling.seed)  # the engine's use of it
    else:
        with pytest.raises(APIError) as caught:
            sampling_from({"seed": seed}, 1, 64, 4)
        assert caught.value.param == "seed" and len(caught.value.message) < 200


def test_error_messages_cut_huge_values() -> None:
    with pytest.raises(APIError) as caught:
        sampling_from({"max_tokens": 10 ** 4000}, 1, 64, 4)
    assert caught.value.param == "max_tokens" and len(caught.value.message) < 400
    with pytest.raises(APIError) as caught:
        sampling_from({"temperature": 10 ** 4000}, 1, 64, 4)  # float(10**4000) would overflow
    assert caught.value.param == "temperature"
    with pytest.raises(APIError) as caught:
        check_request({"model": "m" * 100_000}, COMPLETION_PARAMS, "m")
    assert caught.value.status == 404 and len(caught.value.message) < 400
