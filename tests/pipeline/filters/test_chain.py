"""Per-source chains: kind defaults (decided on the real corpora), manifest overrides, validation, hashes."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline.filters.base import compute_signals, decide, signal_schema
from pipeline.filters.chain import ChainSpec, build, decision_hash, resolve, signal_hash
from pipeline.manifest import ManifestError, parse_manifest
from tests.pipeline.filters.support import evaluate, real_documents


def _names(spec) -> list[str]:
    return [f.name for f in build(spec)]


def test_kind_defaults():
    assert _names(resolve("commoncrawl", {}, None)) == ["url", "length", "language", "gopher_repetition",
                                                        "gopher_quality", "c4", "fineweb", "pii"]
    assert _names(resolve("wikipedia", {}, None)) == ["length", "language", "gopher_quality", "pii"]
    assert resolve("wikipedia", {}, None).gopher_quality.min_alpha_words is None
    assert _names(resolve("books", {}, None)) == ["length", "language", "pii"]


def test_a_resolved_chain_is_immutable():
    # runs hash and share resolved chains: an in-place edit would change a chain behind its hash
    spec = resolve("commoncrawl", {}, None)
    with pytest.raises(ValueError, match="frozen"):
        spec.c4 = None


def test_overrides_change_only_the_keys_they_name():
    by_kind = {"commoncrawl": ChainSpec.model_validate({"gopher_quality": {"max_words": 200_000}})}
    spec = resolve("commoncrawl", by_kind, ChainSpec.model_validate(
        {"gopher_quality": {"min_words": 40}, "c4": None, "fineweb": {"enabled": False}}))
    assert (spec.gopher_quality.min_words, spec.gopher_quality.max_words) == (40, 200_000)
    assert spec.gopher_quality.min_stop_words == 2
    assert "c4" not in _names(spec) and "fineweb" not in _names(spec)
    books = resolve("books", {}, ChainSpec.model_validate({"gopher_quality": {"min_words": 10}}))
    assert "gopher_quality" in _names(books) and books.gopher_quality.max_words == 100_000


MANIFEST = """
run: {name: t, output_dir: out}
sources:
  - {name: web, kind: commoncrawl, paths: [x.warc.gz]}
stages:
  filter:
%s
"""


@pytest.mark.parametrize("section, message", [
    ("    per_source: {web: {gopher_qualty: {}}}", "stages.filter.per_source.web.gopher_qualty: unknown key"),
    ("    per_source: {web: {gopher_quality: {min_word: 40}}}",
     "stages.filter.per_source.web.gopher_quality.min_word: unknown key"),
    ("    defaults_by_kind: {web: {}}", "stages.filter.defaults_by_kind.web"),
    ("    per_source: {web: {c4: {min_sentences: many}}}", "stages.filter.per_source.web.c4.min_sentences"),
    ("    per_source: {web: {gopher_repetition: {max_dup_ngram_char_frac: {4: 0.1}}}}",
     "n-gram sizes [4] are not measured"),
])
def test_manifest_rejects_unknown_filters_and_keys(section, message):
    with pytest.raises(ManifestError) as err:
        parse_manifest(MANIFEST % section)
    assert message in str(err.value)


def test_thresholds_do_not_change_the_signal_hash():
    base = build(resolve("commoncrawl", {}, None))
    stricter = build(resolve("commoncrawl", {}, ChainSpec.model_validate(
        {"gopher_quality": {"min_words": 40}, "fineweb": {"max_dup_line_chars": 0.1}})))
    other_signals = build(resolve("commoncrawl", {}, ChainSpec.model_validate(
        {"gopher_quality": {"stop_words": ["the"]}})))
    assert signal_hash(base, 1000) == signal_hash(stricter, 1000)
    assert decision_hash(base, "s") != decision_hash(stricter, "s")
    assert signal_hash(base, 1000) != signal_hash(other_signals, 1000)
    assert signal_hash(base, 1000) != signal_hash(base, 2000)
    # the keep-list chooses which documents the word filters measure (``Filter.leaves_out``); the score threshold
    # only decides
    other_keep_list = build(resolve("commoncrawl", {}, ChainSpec.model_validate({"language": {"languages": ["de"]}})))
    lower_score = build(resolve("commoncrawl", {}, ChainSpec.model_validate({"language": {"min_score": 0.3}})))
    assert signal_hash(base, 1000) != signal_hash(other_keep_list, 1000)
    assert signal_hash(base, 1000) == signal_hash(lower_score, 1000)


def test_the_word_filters_measure_no_document_the_keep_list_removes():
    """As datatrove's pipeline hands later filters no such document: a Korean page in an English crawl loads no
    Kiwi model and costs no segmentation, and every decision is what measuring it gave (the first rule fired is
    the keep-list's either way)."""
    english = "The quick brown fox jumps over the lazy dog, and then it runs back to the barn. " * 20
    german = "Der schnelle braune Fuchs springt über den faulen Hund und läuft dann zurück in die Scheune. " * 20
    chain = build(resolve("commoncrawl", {}, None))
    columns = compute_signals(chain, [english, german], [None, None], 1_000_000)
    assert columns["language"] == ["en", "de"]
    assert columns["gopher_quality.words"][0] > 0 and columns["gopher_quality.words"][1] is None
    assert columns["c4.sentences"][1] is None and columns["fineweb.lines"][1] is None
    table = pa.table({"id": ["en", "de"], **columns}, schema=signal_schema(chain))
    decisions = decide(chain, table, 1_000_000)
    assert (decisions.filter[1], decisions.rule[1]) == ("language", "not_in_keep_list")
    assert decisions.filter[0] != "language"  # the English page is judged by the rules after (its repetition)
    # kept by the keep-list, the same page is measured and judged by every rule
    both = build(resolve("commoncrawl", {}, ChainSpec.model_validate({"language": {"languages": ["en", "de"]}})))
    measured = compute_signals(both, [german], [None], 1_000_000)
    assert measured["gopher_quality.words"][0] > 0


def _removals(kind: str, chain_kind: str) -> dict[str, tuple[str, str]]:
    docs = real_documents(kind)
    chain = build(resolve(chain_kind, {}, None))
    texts = [d.text for d in docs]
    columns = compute_signals(chain, texts, [None] * len(texts), 1_000_000)
    table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
    d = decide(chain, table, 1_000_000)
    return {(doc.title or doc.key): (f, r) for doc, f, r in zip(docs, d.filter, d.rule) if f is not None}


def test_web_chain_misfires_on_real_wikipedia_and_the_wikipedia_default_does_not():
    web = _removals("wikipedia", "commoncrawl")
    assert web["Aldous Huxley"] == ("gopher_quality", "min_alpha_words")
    assert web["Alain Connes"] == ("gopher_quality", "min_alpha_words")
    own = _removals("wikipedia", "wikipedia")
    assert "Aldous Huxley" not in own and "Alain Connes" not in own
    assert len(own) <= 2  # at most a list-like article with an unsure language score


def test_web_chain_misfires_on_real_books_and_the_books_default_keeps_them():
    web = _removals("books", "commoncrawl")
    assert len(web) >= 3
    assert {rule for _, rule in web.values()} >= {"max_words", "curly_bracket"}
    assert _removals("books", "books") == {}


def test_signal_columns_are_stored_per_filter():
    table, _ = evaluate({"gopher_quality": {}, "language": {}}, ["some text"])
    assert {"n_chars", "language", "language_score", "gopher_quality.words"} <= set(table.column_names)


def test_a_filter_defines_its_signals_as_a_dict_or_as_a_tuple_and_compute_gives_the_same_columns():
    """``Filter.compute`` builds columns from ``values``; a filter that defines only ``signal`` (a dict) gets
    its values in ``SIGNALS`` order from it, one that defines only ``values`` gets ``signal`` from it, and one
    that defines neither is told so."""
    from pipeline.filters.base import Doc, Filter, FilterOptions

    class ByName(Filter):
        name, Options, SIGNALS = "by_name", FilterOptions, {"chars": pa.int32(), "lines": pa.int32()}

        def signal(self, doc):
            return {"lines": doc.text.count("\n") + 1, "chars": len(doc.text)}  # not in SIGNALS order

        def rules(self, s):
            return []

    class ByPosition(ByName):
        name, signal = "by_position", Filter.signal

        def values(self, doc):
            return len(doc.text), doc.text.count("\n") + 1

    class Neither(ByName):
        name, signal = "neither", Filter.signal

    docs = [Doc(t) for t in ("a\nbc", "", "xyz")]
    expected = {"chars": [4, 0, 3], "lines": [2, 1, 1]}
    for flt in (ByName(FilterOptions()), ByPosition(FilterOptions())):
        assert flt.compute(docs) == expected
        assert flt.compute([]) == {"chars": [], "lines": []}
        assert flt.signal(docs[0]) == {"chars": 4, "lines": 2} and flt.values(docs[0]) == (4, 2)
    with pytest.raises(NotImplementedError, match="Neither defines neither signal nor values"):
        Neither(FilterOptions()).compute(docs)
