"""The GPT: network definition (`gpt`), sampling (`generate`) and checkpoint loading (`checkpoint_io`)."""

from model.gpt import GPT, PRESETS, GPTConfig, KVCache

__all__ = ["GPT", "GPTConfig", "KVCache", "PRESETS"]
