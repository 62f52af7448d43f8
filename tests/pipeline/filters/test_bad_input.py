"""Bad input through the whole web chain: every document gets a decision with a reason, nothing crashes."""

from __future__ import annotations


from pipeline.filters.chain import ChainSpec, build, resolve
from tests.pipeline.filters.support import evaluate

WEB = {name: {} for name in ChainSpec.model_fields}


def test_degenerate_texts_get_a_reason():
    texts = ["", "   \n\t\n  ", "!!! ### ??? *** ... --- ///", "\x00\x01\x02 \ufffd\ufffd",
             "English words here, 中文字符在这里, русский текст здесь, and العربية " * 3]
    _, verdicts = evaluate(WEB, texts)
    assert verdicts[0] == verdicts[1] == ("length", "min_chars")
    assert verdicts[2] is not None and verdicts[3] is not None
    assert verdicts[4] is not None  # too short and mixed: removed, with a reason


def test_fifty_megabyte_single_line_is_decided_without_being_split_into_words():
    sentence = "It is a truth universally acknowledged that a good fortune must be spent on books. "
    huge = (sentence * (50_000_000 // len(sentence) + 1))[:50_000_000]  # 50 MB of English, one line
    table, verdicts = evaluate(WEB, [huge, "A normal short document."])
    assert verdicts[0] == ("gopher_repetition", "not_analysed")
    assert table["n_chars"][0].as_py() == 50_000_000
    assert table["gopher_quality.words"][0].as_py() is None  # not measured
    assert verdicts[1] is not None


def test_analysis_cap_applies_only_to_word_filters():
    spec = resolve("books", {}, None)
    assert not any(f.uses_words for f in build(spec))
    text = "Call me Ishmael, said the sailor. " * 10_000
    _, verdicts = evaluate(spec.model_dump(exclude_none=True), [text], analysis_max_chars=1000)
    assert verdicts == [None]
