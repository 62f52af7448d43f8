"""Our fastText inference (pipeline.filters._lid via fasttext_lid) against fasttext-predict, the reference.

On the real web pages of shared/data/web, crafted edge cases and small synthetic model files (dense and
quantized input, hierarchical softmax and softmax, old format version 11) written here and loaded by both.
With ``exact=True`` (the default) scores must be bit-identical; with ``exact=False`` (cached row sums,
added in another order than fastText's row by row) labels must agree and scores be within 1e-5
(on texts cut to the filter's 100k characters: the float error grows with the length).
"""

from __future__ import annotations

import importlib.util
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from pipeline.filters import fasttext_lid, language
from pipeline.filters.fasttext_lid import FastTextLID, UnsupportedModel, clean_surrogates
from pipeline.filters.language import bundled_model_path, fasttext_predict_batch, load_model
from tests.pipeline.filters.support import require_compiled

try:
    from pipeline.filters import _lid
except ImportError:  # not built (no C compiler at install time): language.py uses fasttext-predict
    _lid = None

needs_lid = pytest.mark.skipif(
    _lid is None, reason="pipeline.filters._lid not built (no C compiler): only fasttext-predict can be tested")
CAP = 100_000  # LanguageOptions.max_chars

EDGE_CASES = [
    "", " ", "\t\t", "   \r\n  ", "\x00", "\x00\x00abc\x00", "!!! ??? ... ---", "$%^&*()_+{}|:<>?~`",
    "日本語のテキストです。東京は日本の首都です。", "中文文本测试，这是一个句子。", "한국어 텍스트입니다",
    "यह हिंदी में लिखा गया एक वाक्य है।", "هذه جملة مكتوبة باللغة العربية.", "Это предложение на русском языке.",
    "😀😃😄 🎉🎉 🚀", "emoji mixed 😀 with english words 🎉 here", "a\ud800b", "lone \udfff surrogate \ud83d",
    "\ud83d\ude00 pair escaped as surrogates", "__label__en", "__label__en __label__fr bonjour",
    "__label__zz le chat est sur la table", "hello </s> bonjour le monde", "</s>", "le </s>",
    "tabs\tand\vvertical\ffeeds\rreturns\x00nulls between words", "a\x1cb\x1dc\x1ed\x1fe\x85f\xa0g\u2028h",
    "newlines\nin\nthe\n\ntext", "x" * 300, "naïve café résumé à la française", "Ünïcödé ẞ ǅ ﬁ",
    "\u0301\u0301 combining marks alone", "\x80\x81 C1 controls", "\uffff\ufffe\U0010ffff",
]


def one_megabyte_lines() -> list[str]:
    words = "the quick brown fox jumps over the lazy dog near the bank of the river "
    return ["a" * 1_000_000, "é" * 500_000, (words * (1_000_000 // len(words) + 1))[:1_000_000]]


@pytest.fixture(scope="module")
def web(shared_data: Path, repo_root: Path) -> list[str]:
    """The 344 real pages of bench/filter_agreement.py's web_texts(), read from the shared_data fixture."""
    spec = importlib.util.spec_from_file_location("filter_agreement", repo_root / "bench" / "filter_agreement.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    module.WEB = shared_data / "web"
    texts = [row["text"] for row in module.web_texts()]
    assert len(texts) > 300
    return texts


@pytest.fixture(scope="module")
def reference():
    return load_model(bundled_model_path())


def assert_same(ours: tuple[list, list], theirs: tuple[list, list], exact: bool, texts: list[str]) -> None:
    assert len(ours[0]) == len(theirs[0]) == len(texts)
    for i, (la, pa, lb, pb) in enumerate(zip(*ours, *theirs)):
        assert la == lb, (i, texts[i][:80])
        if exact:
            assert pa == pb, (i, texts[i][:80])
        else:
            assert abs(pa - pb) <= 1e-5, (i, pa, pb, texts[i][:80])


def test_the_compiled_extension_is_built_under_ci():
    require_compiled(_lid, "_lid", "fasttext-predict")


@needs_lid
def test_language_filter_uses_the_compiled_path_for_the_bundled_model():
    predict = language.predictor(None)
    assert isinstance(getattr(predict, "__self__", None), FastTextLID)


@needs_lid
@pytest.mark.parametrize("exact", [True, False])
def test_web_pages_match_fasttext_cold_and_warm(web, reference, exact):
    theirs = fasttext_predict_batch(reference, web, CAP)
    model = FastTextLID(bundled_model_path(), exact=exact)
    cold = model.predict_batch(web, CAP)
    assert_same(cold, theirs, exact, web)
    info = model.cache_info()
    assert info["hits"] > 3 * info["misses"] > 0  # web text repeats its tokens
    warm = model.predict_batch(web, CAP)
    assert warm == cold  # the cache never changes a result
    assert model.cache_info()["misses"] == info["misses"]
    # one text per call, in reverse order (other cache states), gives the same again
    assert [model.predict_batch([t], CAP) for t in reversed(web)] == [([l], [p]) for l, p in zip(*cold)][::-1]


@needs_lid
@pytest.mark.parametrize("exact", [True, False])
def test_edge_cases_match_fasttext(reference, exact):
    """Whole 1 MB lines with exact=True; with exact=False only the filter's first 100k characters: the
    float error of fastText's running sum grows with the length (sums in another order differ by 2.4e-6
    at 100k characters of repeated words, 1.2e-5 at 1 MB)."""
    texts = EDGE_CASES + one_megabyte_lines()
    cap = 10**9 if exact else CAP
    theirs = fasttext_predict_batch(reference, texts, cap)
    model = FastTextLID(bundled_model_path(), exact=exact)
    ours = model.predict_batch(texts, None if exact else cap)
    assert_same(ours, theirs, exact, texts)
    assert model.predict_batch(texts, None if exact else cap) == ours
    # fastText always predicts something for this model: the end-of-line token "</s>" is a feature
    assert ours[0][0] == "__label__en"


def test_lone_surrogates_read_as_question_marks(reference):
    assert clean_surrogates("a\ud800b\udfff") == "a?b?" and clean_surrogates("abc") == "abc"
    with pytest.raises(TypeError):  # fastText's binding refuses them: the fallback retries with "?"
        reference.predict("a\ud800b", k=1)
    assert fasttext_predict_batch(reference, ["a\ud800b"], CAP) == fasttext_predict_batch(reference, ["a?b"], CAP)
    if _lid is not None:
        model = FastTextLID(bundled_model_path())
        assert model.predict_batch(["a\ud800b dog"]) == model.predict_batch(["a?b dog"])


@needs_lid
def test_max_chars_and_newlines_as_in_the_language_filter(reference):
    text = "Longtemps, je me suis couché\nde bonne heure. " + "It is a truth universally acknowledged. " * 50
    model = FastTextLID(bundled_model_path())
    for cap in (0, 1, 10, 44, 45, 100, 2000, 10**6):
        ours = model.predict_batch([text, text.replace("\n", " ")], cap)
        assert ours == fasttext_predict_batch(reference, [text, text], cap), cap
    with pytest.raises(TypeError):  # bytes are UTF-8 texts (test_lid_utf8.py); None is no text
        model.predict_batch([None])
    with pytest.raises(TypeError):
        model.predict_batch("one str")
    with pytest.raises(ValueError):
        model.predict_batch(["x"], -1)
    assert model.predict_batch([]) == ([], [])
    assert model.predict_batch(("a tuple", "works")) == model.predict_batch(["a tuple", "works"])


@needs_lid
def test_random_strings_match_fasttext(reference):
    rng = np.random.default_rng(3)
    pool = list("aeiou xyzÀéß\t\r\v\f\x00\x1c\xa0日本語한국Жж\u0301😀🎉") + ["</s>", "__label__", "the", "de", "\u2028"]
    texts = ["".join(rng.choice(pool, int(rng.integers(0, 40)))) for _ in range(3000)]
    for exact in (True, False):
        model = FastTextLID(bundled_model_path(), exact=exact)
        assert_same(model.predict_batch(texts, CAP), fasttext_predict_batch(reference, texts, CAP), exact, texts)


@needs_lid
def test_batches_are_cut_into_chunks_without_changing_results(web, reference):
    """The extension reads at most 4096 texts or 32 MB of UTF-8 at a time (then releases the GIL)."""
    model = FastTextLID(bundled_model_path())
    texts = [web[i % len(web)][:200] for i in range(5000)]
    assert model.predict_batch(texts, CAP) == fasttext_predict_batch(reference, texts, CAP)
    line = one_megabyte_lines()[2]
    single = model.predict_batch([line])
    assert model.predict_batch([line] * 35) == (single[0] * 35, single[1] * 35)


@needs_lid
def test_a_tiny_cache_is_emptied_and_changes_nothing(web, reference):
    texts = web[:40]
    model = FastTextLID(bundled_model_path(), cache_entries=50, cache_bytes=4096)
    ours = model.predict_batch(texts, CAP)
    assert ours == fasttext_predict_batch(reference, texts, CAP)
    info = model.cache_info()
    assert info["clears"] > 10 and info["entries"] <= 50 and info["record_bytes"] <= 4096
    model.cache_clear()
    assert model.cache_info()["entries"] == 0 and model.cache_info()["allocated_bytes"] == 0
    assert model.predict_batch(texts, CAP) == ours


@needs_lid
def test_threads_share_one_model(web):
    model = FastTextLID(bundled_model_path())
    expected = model.predict_batch(web[:60], CAP)
    model.cache_clear()
    results: list = [None] * 4

    def run(i: int) -> None:
        results[i] = model.predict_batch(web[:60], CAP)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


def test_the_bundled_model_file_is_parsed_as_documented():
    mf = fasttext_lid.read_model(bundled_model_path())
    assert (mf.version, mf.dim, mf.loss, mf.model, mf.word_ngrams, mf.bucket, mf.minn, mf.maxn) == (
        12, 16, fasttext_lid.LOSS_HS, fasttext_lid.MODEL_SUP, 1, 2_000_000, 2, 4)
    assert (len(mf.words), mf.nwords, mf.nlabels, mf.prune_size) == (7411, 7235, 176, 42765)
    assert mf.words[0] == b"</s>" and mf.words[mf.nwords].startswith(b"__label__")
    assert mf.quant_input and not mf.quant_output and mf.input.shape == (50000, 16)
    assert mf.output is not None and mf.output.shape == (176, 16)
    fasttext_lid.check_supported(mf)


# ----------------------------------------------------------------------------- synthetic model files

def write_model(path: Path, *, loss: int = 1, version: int = 12, dim: int = 8, bucket: int = 997,
                minn: int = 2, maxn: int = 4, word_ngrams: int = 1, quant: bool = False, qnorm: bool = True,
                qout: bool = False, prune: bool = False, seed: int = 0, labels: int = 7,
                kept: list[int] | None = None, extra_words: tuple[str, ...] = ()) -> None:
    """A small fastText supervised model file in the layout FastText::saveModel writes (``kept``: the
    buckets a pruned model keeps, a random third by default; ``extra_words``: vocabulary words added)."""
    rng = np.random.default_rng(seed)
    words = ["</s>", "the", "and", "le", "la", "der", "die", "und", "chat", "hund", "日本", "é", "naïve", "😀",
             *extra_words]
    label_names = [f"__label__l{i}" for i in range(labels)]
    counts = sorted(rng.integers(1, 10_000, labels).tolist(), reverse=True)  # fastText sorts by count
    out = bytearray(struct.pack("<ii", 793712314, version))
    out += struct.pack("<12id", dim, 5, 5, 1, 5, word_ngrams, loss, 3, bucket, minn, maxn, 100, 1e-4)
    prune_pairs = []
    if prune:
        if kept is None:
            kept = rng.choice(bucket, size=bucket // 3, replace=False)
        prune_pairs = [(int(b), i) for i, b in enumerate(kept)]
    n_ngram_rows = len(prune_pairs) if prune else bucket
    out += struct.pack("<iiiqq", len(words) + labels, len(words), labels, 123456, len(prune_pairs) if prune else -1)
    for w in words:
        out += w.encode() + b"\0" + struct.pack("<qb", int(rng.integers(1, 1000)), 0)
    for name, count in zip(label_names, counts):
        out += name.encode() + b"\0" + struct.pack("<qb", count, 1)
    for b, i in prune_pairs:
        out += struct.pack("<ii", b, i)
    rows = len(words) + n_ngram_rows
    out += struct.pack("<B", int(quant))
    if quant:
        dsub = 3
        nsubq = -(-dim // dsub)
        lastdsub = dim - (nsubq - 1) * dsub
        out += struct.pack("<Bqqi", int(qnorm), rows, dim, rows * nsubq)
        out += rng.integers(0, 256, rows * nsubq, dtype=np.uint8).tobytes()
        out += struct.pack("<4i", dim, nsubq, dsub, lastdsub) + rng.normal(0, 1, dim * 256).astype("<f4").tobytes()
        if qnorm:
            out += rng.integers(0, 256, rows, dtype=np.uint8).tobytes()
            out += struct.pack("<4i", 1, 1, 1, 1) + rng.uniform(0.1, 2, 256).astype("<f4").tobytes()
    else:
        out += struct.pack("<qq", rows, dim) + rng.normal(0, 1, (rows, dim)).astype("<f4").tobytes()
    out += struct.pack("<B", int(qout))
    if quant and qout:
        out += struct.pack("<Bqqi", 0, labels, dim, labels * dim)
        out += rng.integers(0, 256, labels * dim, dtype=np.uint8).tobytes()
        out += struct.pack("<4i", dim, dim, 1, 1) + rng.normal(0, 1, dim * 256).astype("<f4").tobytes()
    else:
        out += struct.pack("<qq", labels, dim) + rng.normal(0, 1.5, (labels, dim)).astype("<f4").tobytes()
    path.write_bytes(bytes(out))


def synthetic_texts(seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    vocab = ["the", "and", "le", "la", "der", "die", "und", "chat", "hund", "日本", "é", "naïve", "😀", "</s>",
             "__label__l1", "cats", "Hunde", "日本語", "ëé", "x", "qq", "zzzz"]
    texts = [" ".join(rng.choice(vocab, int(rng.integers(0, 25)))) for _ in range(300)]
    return texts + EDGE_CASES


SYNTHETIC = {
    "dense_hs": {}, "dense_softmax": {"loss": 3}, "dense_hs_v11": {"version": 11},
    "dense_softmax_one_label": {"loss": 3, "labels": 1}, "dense_hs_one_label": {"labels": 1},
    "dense_hs_two_labels": {"labels": 2}, "dense_no_ngrams": {"maxn": 0},
    "dense_no_buckets": {"maxn": 0, "bucket": 0}, "dense_unigrams": {"minn": 1, "maxn": 3, "dim": 5},
    "quant_hs_pruned": {"quant": True, "prune": True},
    "quant_softmax_pruned": {"quant": True, "prune": True, "loss": 3},
    "quant_hs_no_qnorm": {"quant": True, "qnorm": False, "prune": True, "dim": 10},
    "quant_hs_unpruned": {"quant": True, "dim": 7},
}


@needs_lid
@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_models_match_fasttext(tmp_path, name):
    import fasttext

    path = tmp_path / f"{name}.bin"
    write_model(path, seed=len(name), **SYNTHETIC[name])
    reference = fasttext.load_model(str(path))
    texts = synthetic_texts(len(name))
    theirs = fasttext_predict_batch(reference, texts, CAP)
    assert len(set(theirs[0])) > 1 or SYNTHETIC[name].get("labels") == 1  # the texts tell labels apart
    for exact in (True, False):
        model = FastTextLID(path, exact=exact)
        assert_same(model.predict_batch(texts, CAP), theirs, exact, texts)
        assert_same(model.predict_batch(texts, CAP), theirs, exact, texts)
    assert language.predictor(str(path)).__self__.path == str(path)  # type: ignore[attr-defined]


LONGEST = "中华人民共和国国务院新闻办公室"  # 45 UTF-8 bytes: longer than every label and other word


@needs_lid
@pytest.mark.parametrize("options", [{}, {"quant": True, "prune": True}])
def test_the_longest_vocabulary_word_is_found_and_longer_tokens_are_not(tmp_path, options):
    """Tokens longer than the vocabulary's longest entry skip its lookup (``_lid.c``'s ``max_word_len``):
    the longest word itself, as a whole token, must still get its word row, and the tokens around it in
    length (a character less or more, the same bytes plus one) none; bit for bit as fastText."""
    import fasttext

    path = tmp_path / "long_word.bin"
    write_model(path, seed=5, extra_words=("一二三", LONGEST), **options)
    reference = fasttext.load_model(str(path))
    assert max(map(len, fasttext_lid.read_model(path).words)) == len(LONGEST.encode())  # labels included
    tokens = [LONGEST, LONGEST[:-1], LONGEST + "a", LONGEST + "室", "x" + LONGEST, "一二三", "一二三四"]
    texts = tokens + [" ".join(tokens), f"le {LONGEST} chat", LONGEST * 2]
    theirs = fasttext_predict_batch(reference, texts, CAP)
    for exact in (True, False):
        assert_same(FastTextLID(path, exact=exact).predict_batch(texts, CAP), theirs, exact, texts)


@pytest.mark.parametrize("options, reason", [
    ({"loss": 2}, "loss 2"), ({"loss": 4}, "loss 4"), ({"word_ngrams": 2}, "wordNgrams 2"),
    ({"quant": True, "qout": True}, "quantized output"), ({"prune": True}, "pruned dictionary"),
])
def test_unsupported_models_fall_back_to_fasttext(tmp_path, options, reason):
    path = tmp_path / "model.bin"
    write_model(path, **options)
    with pytest.raises(UnsupportedModel, match=reason):
        fasttext_lid.check_supported(fasttext_lid.read_model(path))
    if _lid is not None:
        with pytest.raises(UnsupportedModel):
            FastTextLID(path)
    if reason == "pruned dictionary":
        return  # fastText itself rejects a dense input matrix with a pruned dictionary
    predict = language.predictor(str(path))
    assert not isinstance(getattr(predict, "__self__", None), FastTextLID)
    texts = synthetic_texts(1)
    assert predict(texts, CAP) == fasttext_predict_batch(load_model(str(path)), texts, CAP)


def test_files_that_are_not_models_are_value_errors(tmp_path):
    empty, junk, truncated = tmp_path / "empty.bin", tmp_path / "junk.bin", tmp_path / "truncated.bin"
    empty.write_bytes(b"")
    junk.write_bytes(b"not a model at all" * 10)
    truncated.write_bytes(Path(bundled_model_path()).read_bytes()[:5000])
    for path in (empty, junk, truncated):
        with pytest.raises(ValueError):
            fasttext_lid.read_model(path)
    for path in (empty, junk):  # (fastText raises MemoryError for the truncated one)
        with pytest.raises(ValueError, match="lid.176.bin"):  # the language filter's message, from fastText
            language.predictor(str(path))


def test_huffman_tree_is_fasttexts():
    """HierarchicalSoftmaxLoss::buildTree on counts sorted as fastText's dictionary sorts them."""
    left, right = fasttext_lid.huffman_tree([5, 3, 2, 1])
    # node 4 = leaves 3 (1) + 2 (2); node 5 = node 4 (3, as leaf 1 is not smaller) + leaf 1 (3);
    # the root 6 = leaf 0 (5) + node 5 (6)
    assert left.tolist() == [-1, -1, -1, -1, 3, 4, 0]
    assert right.tolist() == [-1, -1, -1, -1, 2, 1, 5]
    assert fasttext_lid.huffman_tree([7])[0].tolist() == [-1]


@needs_lid
def test_the_default_token_cache_stays_under_24_megabytes():
    """A filter worker keeps the model's token cache between tasks (issue 19: peak RSS per worker flat):
    with the defaults, 400,000 distinct tokens leave at most 16 MB of records and 262,144 entries, ~24 MB
    with the slots (the defaults were 64 MB and 1,048,576: up to ~96 MB)."""
    model = FastTextLID(bundled_model_path())
    texts = [" ".join(f"tok{i}x{j}" for j in range(1000)) for i in range(400)]
    model.predict_batch(texts, 100_000)
    info = model.cache_info()
    assert info["clears"] >= 1 and info["entries"] <= 1 << 18 and info["record_bytes"] <= 16 << 20
    assert info["allocated_bytes"] <= 24 << 20, info


def _cjk_run_texts() -> list[str]:
    """Runs of 3-byte characters (CJK, Hangul, U+0800 and U+FFFF, the first and last of 3 bytes) of 1 to 13
    characters, each also broken at every position by a character of 1, 2 or 4 bytes, a separator or another
    3-byte one, plus random mixes mostly of 3-byte characters."""
    three = "中文字測試日本語한국\u0800\uffff。"
    texts = []
    for length in range(1, 14):
        run = "".join(three[(i * 5) % len(three)] for i in range(length))
        texts.append(run)
        for at in range(length + 1):
            texts += [run[:at] + other + run[at:] for other in ("a", "é", "😀", " ", "\n", "語")]
    rng = np.random.default_rng(13)
    pool = list(three * 4) + ["a", "é", "😀", " ", "ab"]
    texts += ["".join(rng.choice(pool, int(rng.integers(1, 60)))) for _ in range(500)]
    return texts


@needs_lid
@pytest.mark.parametrize("model", ["bundled", "quant_pruned", "dense"])
def test_runs_of_3_byte_characters_match_fasttext(tmp_path, reference, model):
    """``_lid.c`` hashes the n-grams of four 3-byte characters in a row without a loop (``four_3byte_chars``);
    every way in and out of such a run gives fastText's rows, bit for bit (pruned models: through the kept
    buckets' rank)."""
    import fasttext

    path = bundled_model_path()
    if model != "bundled":
        path = tmp_path / f"{model}.bin"
        write_model(path, seed=21, **({"quant": True, "prune": True} if model == "quant_pruned" else {}))
        reference = fasttext.load_model(str(path))
    texts = _cjk_run_texts()
    theirs = fasttext_predict_batch(reference, texts, CAP)
    for exact in (True, False):
        assert_same(FastTextLID(path, exact=exact).predict_batch(texts, CAP), theirs, exact, texts)


@needs_lid
def test_a_repeated_prune_key_keeps_its_last_row(tmp_path):
    """A pruned model whose index names a bucket twice: fastText keeps the later row (its map is assigned
    in file order); the rank table built from the kept buckets must too."""
    import fasttext

    rng = np.random.default_rng(4)
    kept = rng.choice(997, size=300, replace=False).tolist()
    kept += kept[:40]  # the first 40 buckets again, with the rows 300..339
    path = tmp_path / "repeated.bin"
    write_model(path, seed=8, quant=True, prune=True, kept=kept)
    texts = synthetic_texts(8) + _cjk_run_texts()[:200]
    theirs = fasttext_predict_batch(fasttext.load_model(str(path)), texts, CAP)
    assert_same(FastTextLID(path).predict_batch(texts, CAP), theirs, True, texts)
