"""The GPT: network definition (`gpt`), the generation engine (`engine`; `generate` is its command line), the
checkpoint format (`checkpoint_io`), the checkpoint's tokenizer (`tokenizer`), HF interop (`hf_interop`), and the
OpenAI-compatible server (`openai_api`: validation and response shapes; `serve`: HTTP)."""

from model.gpt import GPT, PRESETS, GPTConfig, KVCache

__all__ = ["GPT", "GPTConfig", "KVCache", "PRESETS"]
