"""Prompt templates: a chat keeps the layout the model was tuned with."""

from __future__ import annotations

from model.templates import ALPACA_PREAMBLE, alpaca_prompt, chat_prompt, prompt_for


def test_system_message_opens_the_first_instruction_and_keeps_the_preamble() -> None:
    text = chat_prompt([{"role": "system", "content": "Answer in one word."},
                        {"role": "user", "content": "Name a river."}], "alpaca")
    # the tuned layout exactly, with the system text inside the instruction (a replaced preamble made a
    # small tuned model emit newlines until its context was full)
    assert text == alpaca_prompt("Answer in one word.\n\nName a river.")
    assert text.startswith(ALPACA_PREAMBLE + "\n\n### Instruction:\n")


def test_later_turns_carry_no_system_text() -> None:
    text = chat_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "A?"},
                        {"role": "assistant", "content": "B."}, {"role": "user", "content": "C?"}], "alpaca")
    assert text.count("Be brief.") == 1 and text.endswith("### Instruction:\nC?\n\n### Response:\n")


def test_prompt_for_each_template() -> None:
    assert prompt_for("Hi", "none") == "Hi"
    assert prompt_for("Hi", "alpaca") == alpaca_prompt("Hi")
    assert prompt_for("Hi", "plain") == "User: Hi\nAssistant:"
