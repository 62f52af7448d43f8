"""model.openai_api without HTTP: request validation turns a body into engine settings or an OpenAI-shaped
error naming the parameter; response shaping builds the bodies the server sends."""

from __future__ import annotations

import pytest

from model.engine import Sampling
from model.openai_api import (APIError, COMPLETION_PARAMS, chat_answer, check_request, completion_chunk,
                              sampling_from, with_total)


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
