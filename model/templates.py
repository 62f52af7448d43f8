"""Prompt templates: the exact text an instruction-tuned model saw around each example.

A model tuned on one layout only follows instructions given in that layout, so fine-tuning
(`training.finetune_instruct`), its evaluation and the server (`model.serve`) all build prompts here. A
fine-tuned checkpoint records its template's name under "prompt_template".

Worked example, the Alpaca layout, for {"instruction": "Convert 45 km to m.", "input": ""}:

    Below is an instruction that describes a task. Write a response that appropriately completes the request.

    ### Instruction:
    Convert 45 km to m.

    ### Response:
    <- the model continues here; training scores only these tokens (and the closing <|endoftext|>)

With a non-empty input, a "### Input:" section sits between instruction and response.
"""

from __future__ import annotations

from typing import Any, Sequence

ALPACA_PREAMBLE = ("Below is an instruction that describes a task. "
                   "Write a response that appropriately completes the request.")
ALPACA_PREAMBLE_WITH_INPUT = ("Below is an instruction that describes a task, paired with an input that "
                              "provides further context. Write a response that appropriately completes the "
                              "request.")
TEMPLATES = ("alpaca", "plain")
CHAT_ROLES = ("system", "user", "assistant")


def alpaca_prompt(instruction: str, input_text: str = "", preamble: str | None = None) -> str:
    """The prompt for one instruction, ending where the response starts."""
    if preamble is None:
        preamble = ALPACA_PREAMBLE_WITH_INPUT if input_text.strip() else ALPACA_PREAMBLE
    text = f"{preamble}\n\n### Instruction:\n{instruction}\n\n"
    if input_text.strip():
        text += f"### Input:\n{input_text}\n\n"
    return text + "### Response:\n"


def prompt_for(text: str, template: str) -> str:
    """A bare prompt as a model tuned with ``template`` expects it (``none``: the text unchanged)."""
    if template == "none":
        return text
    return chat_prompt([{"role": "user", "content": text}], template)


def validate_messages(messages: Any) -> list[dict[str, str]]:
    """Chat messages as [{"role", "content"}], ending with a user turn; ValueError says which is wrong."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty list of {role, content} objects")
    checked = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"messages[{i}] must be an object with 'role' and 'content'")
        role, content = message.get("role"), message.get("content")
        if role not in CHAT_ROLES:
            raise ValueError(f"messages[{i}].role is {role!r}; supported roles are {CHAT_ROLES}")
        if isinstance(content, list):  # OpenAI's content parts: keep the text ones
            parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
            if len(parts) != len(content) or not all(isinstance(p, str) for p in parts):
                raise ValueError(f"messages[{i}].content: only text parts are supported")
            content = "".join(parts)
        if not isinstance(content, str):
            raise ValueError(f"messages[{i}].content must be a string")
        checked.append({"role": role, "content": content})
    if checked[-1]["role"] != "user":
        raise ValueError("the last message must come from the user: the model answers it")
    return checked


def chat_prompt(messages: Sequence[dict[str, str]], template: str) -> str:
    """A chat rendered in `template`, ending where the assistant's reply starts.

    alpaca: the preamble the model was tuned with stays; system messages open the first instruction (a
    replaced preamble is a layout the model never saw: a small tuned model then emitted newlines until its
    context was full). Each user turn is an instruction and each assistant turn the response to the one
    before it, so earlier turns read as solved examples. plain (for models never instruction-tuned): a
    "Role: text" transcript ending in "Assistant:".
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown prompt template {template!r}; choose one of {TEMPLATES}")
    messages = validate_messages(list(messages))
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    if template == "plain":
        lines = [f"System: {system}"] if system else []
        lines += [f"{m['role'].capitalize()}: {m['content']}" for m in turns]
        return "\n".join(lines) + "\nAssistant:"
    text = f"{ALPACA_PREAMBLE}\n\n"
    for i, m in enumerate(turns):
        if m["role"] == "user":
            content = f"{system}\n\n{m['content']}" if system and i == 0 else m["content"]
            text += f"### Instruction:\n{content}\n\n"
        else:
            text += f"### Response:\n{m['content']}\n\n"
    return text + "### Response:\n"
