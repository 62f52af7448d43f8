from pipeline.dedup.normalize import normalize_batch, normalize_text
from tests.pipeline.dedup.corpus import book_paragraphs, wiki_paragraphs


def test_reference_rules():
    assert normalize_text("Page 12, Chapter IV.") == "page 00 chapter iv"
    assert normalize_text("  Ça   va? «Très» bien—merci! ٣٤ x²") == "ça va très bien merci 00 x²"
    assert normalize_text("snake_case\tand\u00a0nbsp") == "snake case and nbsp"
    assert normalize_text("...") == ""


def test_batch_equals_reference_on_real_text(shared_data):
    texts = list(book_paragraphs(shared_data)[:200]) + list(wiki_paragraphs(shared_data)[:200])
    texts += ["", "!!!", "İstanbul é\u0301 ١٢٣ 𝟘𝟙 😀 end", "word"]
    batch = normalize_batch(texts)
    assert batch.num_docs == len(texts)
    for d, text in enumerate(texts):
        assert batch.doc_bytes(d).decode() == normalize_text(text), d


def test_batch_decodes_every_utf8_length_like_the_reference():
    """Three-byte characters led by 0xE0 (Devanagari, U+0800-U+0FFF) and four-byte ones led by 0xF1-0xF4
    (planes 4-16: private use U+F0000 is not a letter) take their true class, not a mis-decoded one."""
    texts = ["नमस्ते दुनिया १२३", "a\U000F0000b \U00100001c d\U000E0100e", "ࠀ \u0fff\u0800z"]
    assert normalize_text(texts[0]) == "नमस्ते दुनिया 000"
    assert normalize_text(texts[1]) == "a b c d\U000E0100e"  # private use separates; a variation selector is a mark
    batch = normalize_batch(texts)
    for d, text in enumerate(texts):
        assert batch.doc_bytes(d).decode() == normalize_text(text), d
