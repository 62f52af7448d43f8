"""The BPE trainer: megabytes of real text, deterministic, and loadable into tiktoken."""

from __future__ import annotations

from pathlib import Path

from pipeline.bpe import train_bpe
from pipeline.tokenizer import ENDOFTEXT, GPT2_PATTERN, Tokenizer, load_bpe, ranks_bytes


def _books(shared_data: Path) -> list[str]:
    """The English books: the German and Chinese ones (``de-*``, ``zh-*``) compress differently per token."""
    return [p.read_text(encoding="utf-8", errors="replace") for p in sorted((shared_data / "books").glob("*.txt"))
            if not p.name.startswith(("de-", "zh-"))]


def test_worked_example() -> None:
    ranks = train_bpe(["aab aab ab ab ab"], 258)
    # After pre-tokenisation: "aab" x1, " aab" x1, " ab" x3; (a, b) is the most frequent pair.
    order = sorted(ranks, key=ranks.get)
    assert order[:256] == [bytes([b]) for b in range(256)]
    assert order[256] == b"ab" and order[257] == b" ab"


def test_trains_4096_on_megabytes_and_round_trips(shared_data: Path) -> None:
    texts = _books(shared_data)
    assert sum(len(t.encode()) for t in texts) > 3_000_000
    ranks = train_bpe(texts, 4095)  # speed is measured in bench/tokenize_bench.py, not asserted here
    assert len(ranks) == 4095 and sorted(ranks.values()) == list(range(4095))
    tok = Tokenizer.from_ranks("t", "bpe", ranks, GPT2_PATTERN, {ENDOFTEXT: 4095})
    for text in texts:
        tokens = tok.encode(text)
        assert tok.decode(tokens) == text
        assert len(text.encode()) / len(tokens) > 2.8  # it learned real merges
    assert tok.dtype.name == "uint16" and tok.info.n_vocab == 4096


def test_deterministic_and_saved_in_tiktoken_format(shared_data: Path, tmp_path: Path) -> None:
    text = _books(shared_data)[0][:300_000]
    first, second = train_bpe([text], 1000), train_bpe([text], 1000)
    assert ranks_bytes(first) == ranks_bytes(second)
    path = tmp_path / "bpe.tiktoken"
    path.write_bytes(ranks_bytes(first))
    tok = load_bpe(path, "mine")
    assert tok.info.eot_id == 1000 and tok.decode(tok.encode(text)) == text


def test_cjk_chars_pretokenizer_splits_han_and_leaves_other_text_as_gpt2(shared_data: Path) -> None:
    import regex

    from pipeline.tokenizer import CJK_CHARS_PATTERN

    english = _books(shared_data)[0][:200_000]
    assert regex.findall(CJK_CHARS_PATTERN, english) == regex.findall(GPT2_PATTERN, english)
    assert regex.findall(CJK_CHARS_PATTERN, "我爱北京。Hi 東京タワー 한국") == [
        "我", "爱", "北", "京", "。", "Hi", " ", "東", "京", "タ", "ワ", "ー", " ", "한", "국"]
    # GPT-2's regex takes the whole clause as one piece
    assert regex.findall(GPT2_PATTERN, "我爱北京。") == ["我爱北京", "。"]


def test_bpe_with_cjk_chars_never_merges_across_han_characters(shared_data: Path) -> None:
    from pipeline.tokenizer import CJK_CHARS_PATTERN

    book = (shared_data / "books" / "zh-hongloumeng-pg24264.txt").read_text(encoding="utf-8-sig")[:150_000]
    ranks = train_bpe([book, _books(shared_data)[0][:100_000]], 1500, CJK_CHARS_PATTERN)
    tok = Tokenizer.from_ranks("t", "bpe", ranks, CJK_CHARS_PATTERN, {ENDOFTEXT: len(ranks)})
    han = [t.decode("utf-8", "ignore") for t in ranks if len(t) > 3]
    assert not [t for t in han if sum("\u4e00" <= ch <= "\u9fff" for ch in t) > 1]
    assert any(len(t) > 5 and t.isascii() for t in ranks)  # English words were still merged
    sample = book[200_000:210_000] if len(book) > 200_000 else book[-10_000:]
    assert tok.decode(tok.encode(sample)) == sample
    n_han = sum("\u4e00" <= ch <= "\u9fff" for ch in sample)
    assert len(tok.encode(sample)) >= n_han > 5_000  # no token holds two Han characters
