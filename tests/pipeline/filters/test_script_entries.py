"""A language written in several scripts is judged with the entry of the document's script.

lid.176 labels Serbian "sr" in Cyrillic and in Latin letters; FineWeb-2 publishes srp_Cyrl and srp_Latn, whose stop
words are written in their script. With one entry per language a Latin-script Serbian page met srp_Cyrl's Cyrillic
stop words, and Gopher's stop-word rule (at least 2) removed it.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline.filters.base import analysis_languages, compute_signals, decide, declared_scripts, signal_schema
from pipeline.filters.chain import ChainSpec, build
from pipeline.filters.gopher import GopherQualityOptions
from pipeline.filters.lang_params import (FINEWEB2, FINEWEB2_CONFIG, LANGUAGES, analysis_key, has_script_entries,
                                          localize, script_entries)

# Short paragraphs written for these tests, in the style of an encyclopedia's opening paragraphs. lid.176 labels the
# first two "sr" (0.45 and 0.94); it labels SR_LATN "sh" (Serbo-Croatian), which is why the language-filter test reads
# SR_LATN_LID.
SR_LATN = (
    "Beograd je glavni i najveći grad Srbije. Nalazi se na ušću Save u Dunav, na mestu gde se Panonska nizija "
    "spaja sa Balkanskim poluostrvom. Grad ima dugu i burnu istoriju, a u njemu danas živi oko milion i po "
    "stanovnika. Beograd je politički, privredni i kulturni centar zemlje i sedište mnogih državnih ustanova.\n\n"
    "U starom delu grada nalazi se Kalemegdanska tvrđava, odakle se pruža pogled na obe reke. Knez Mihailova "
    "ulica je omiljeno šetalište građana i turista, a u njenoj blizini su Narodni muzej i Narodno pozorište. "
    "Grad je poznat po živom noćnom životu, brojnim kafanama i restoranima koji rade do kasno u noć."
)
SR_LATN_LID = (
    "Srpski jezik se piše ćirilicom i latinicom, a oba pisma su u svakodnevnoj upotrebi. Prema Ustavu Republike "
    "Srbije, u službenoj upotrebi je srpski jezik i ćirilično pismo, dok se latinica takođe koristi u štampi, na "
    "internetu i u reklamama. Mnoge novine izlaze na latinici, a deca u školi uče oba pisma već u prvom razredu.\n\n"
    "Vuk Stefanović Karadžić je reformisao srpsku ćirilicu u devetnaestom veku po načelu jedno slovo za jedan glas. "
    "Latinicu koja se danas koristi uredio je Ljudevit Gaj, pa se pisma mogu preslovljavati jedno u drugo bez gubitka."
)
SR_CYRL = (
    "Нови Сад је други по величини град у Србији и административни центар Војводине. Налази се на обали "
    "Дунава, у подножју Фрушке горе. Град је основан крајем седамнаестог века, а у њему данас живи око "
    "четиристо хиљада становника. Нови Сад је познат као важан културни и универзитетски центар.\n\n"
    "На десној обали реке налази се Петроварадинска тврђава, на којој се сваког лета одржава музички "
    "фестивал Егзит. У центру града су Трг слободе, Градска кућа и католичка црква Имена Маријиног. Многи "
    "туристи долазе да виде старе улице и да пробају јела војвођанске кухиње."
)


def _decide(chain_options: dict, texts: list[str], declared: list[str | None] | None, scripts=...) -> tuple:
    chain = build(ChainSpec.model_validate(chain_options))
    columns = compute_signals(chain, texts, [None] * len(texts), 1_000_000, declared=declared)
    table = pa.table({"id": [str(i) for i in range(len(texts))], **columns}, schema=signal_schema(chain))
    if scripts is ...:
        scripts = declared_scripts(declared, lambda rows: [texts[i] for i in rows])
    return decide(chain, table, 1_000_000, declared, scripts), columns


def test_the_key_of_a_document_is_its_languages_entry_in_its_script():
    assert script_entries()["sr"] == ("Latn",) and has_script_entries("sr") and not has_script_entries("en")
    assert analysis_key("sr", "Latn") == "sr-Latn" and FINEWEB2_CONFIG["sr-Latn"] == "srp_Latn"
    # the main script, a script without an entry, a language with one entry, no language: the plain code, as before
    assert analysis_key("sr", "Cyrl") == "sr" and analysis_key("sr", "Zyyy") == "sr" and analysis_key("sr", None) == "sr"
    assert analysis_key("en", "Latn") == "en" and analysis_key(None, "Latn") is None
    for key in [k for k in LANGUAGES if "-" in k]:  # every per-script entry has its language's FineWeb-2 config
        language, script = key.split("-")
        assert FINEWEB2_CONFIG[key].endswith("_" + script) and analysis_key(language, script) == key
    assert analysis_languages(["sr", "sr", "und", "en"], ["sr", None, "sr", None], 4, ["Latn", "Cyrl", "Latn", "Latn"]) \
        == ["sr-Latn", "sr", "sr-Latn", "en"]


def test_latin_serbian_of_a_declared_source_is_kept_with_srp_latns_stop_words():
    # a book or wiki that declares "sr", no language filter: the script is computed for its documents
    decisions, columns = _decide({"gopher_quality": {}}, [SR_LATN, SR_CYRL], ["sr", "sr"])
    assert list(decisions.kept) == [True, True]
    latin = localize(GopherQualityOptions(), "gopher_quality", "sr-Latn")
    assert latin.stop_words == tuple(FINEWEB2["sr-Latn"]["stopwords"]) == ("i", "je", "da", "u", "se", "na", "a",
                                                                          "su", "ne", "od", "koji", "za")
    # with srp_Cyrl's Cyrillic stop words, what the language's one entry gave every "sr" page: the Latin one is removed
    cyrillic = {"gopher_quality": {"stop_words": FINEWEB2["sr"]["stopwords"]}}
    decisions, _ = _decide(cyrillic, [SR_LATN, SR_CYRL], ["sr", "sr"])
    assert [decisions.filter[0], decisions.rule[0]] == ["gopher_quality", "min_stop_words"] and decisions.kept[1]


def test_cyrillic_serbian_is_still_judged_with_srp_cyrl():
    assert LANGUAGES["sr"].stop_words == tuple(FINEWEB2["sr"]["stopwords"]) and FINEWEB2_CONFIG["sr"] == "srp_Cyrl"
    chain = build(ChainSpec.model_validate({"language": {"languages": ["sr"], "min_score": None},
                                            "gopher_quality": {}}))
    texts = [SR_LATN_LID, SR_CYRL]
    columns = compute_signals(chain, texts, [None, None], 1_000_000)
    assert columns["language"] == ["sr", "sr"] and columns["script"] == ["Latn", "Cyrl"]  # lid.176's label stays
    assert analysis_languages(columns["language"], None, 2, columns["script"]) == ["sr-Latn", "sr"]
    table = pa.table({"id": ["0", "1"], **columns}, schema=signal_schema(chain))
    decisions = decide(chain, table, 1_000_000)  # the language filter's script signal picks the entry
    assert list(decisions.kept) == [True, True]
    # the stop words each was measured with: srp_Latn's in the Latin text, srp_Cyrl's in the Cyrillic one
    present = [len(set(FINEWEB2[key]["stopwords"]) & set(text.replace(",", " ").split()))
               for key, text in (("sr-Latn", SR_LATN_LID), ("sr", SR_CYRL))]
    assert columns["gopher_quality.stop_words"] == present and min(present) >= 2


def test_deciding_without_the_scripts_a_declared_language_needs_is_an_error():
    with pytest.raises(ValueError, match="declared_scripts"):
        _decide({"gopher_quality": {}}, [SR_LATN], ["sr"], scripts=None)
    # a declared language with one entry: nothing to pass (German's stop words remove the Serbian page, as before)
    decisions, _ = _decide({"gopher_quality": {}}, [SR_LATN], ["de"], scripts=None)
    assert decisions.rule[0] == "min_stop_words"
