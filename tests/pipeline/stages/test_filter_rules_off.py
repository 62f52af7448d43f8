"""Word rules skipped for a missing segmenter library are counted per language, rule and cause in the filter
stage's statistics, and shown in the report (JSON and a warning section of the page) and the run's summary.

A whole run (crawl and filter, in process: the segmenter library is made missing by patching this process's
look-up, ``lang_params._missing_cache``, which Ray's worker processes would not see) on Korean, Thai, Khmer,
Tibetan and Turkish prose: Khmer's library missing skips its word rules (and its stop-word rule: FineWeb-2's
khm_Khmr list counts khmer-nltk's words); Tibetan has no segmenter at all; Turkish has no stop-word list (its
recomputed FineWeb-2 config is not stored; Vietnamese was the example until it took FineWeb-2's vie_Latn values);
Korean and Thai, whose libraries are present, are judged with every rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.filters import lang_params
from pipeline.filters.segment_lib import KHMER, LIBRARY_MODULES
from pipeline.manifest import load_manifest
from pipeline.run import run_manifest
from tests.pipeline.filters.test_lang_params import PARAGRAPHS, UDHR_NO_WORDS
from tests.pipeline.helpers import write_manifest
from tests.pipeline.test_report import _assert_page_matches

# Two paragraphs in Turkish, written for this test in the style of an encyclopedia's opening paragraphs
_TURKISH = ("İstanbul, Türkiye'nin en kalabalık şehri ve ülkenin ekonomik, kültürel ve tarihi merkezidir. Şehir, "
            "Avrupa ile Asya'yı ayıran İstanbul Boğazı'nın iki yakasında kurulmuştur. Yüzyıllar boyunca Bizans ve "
            "Osmanlı imparatorluklarına başkentlik yapmış olan şehirde bugün on beş milyondan fazla insan "
            "yaşamaktadır.\n\nŞehrin tarihi yarımadasında Ayasofya, Topkapı Sarayı ve Sultanahmet Camii gibi "
            "yapılar bulunur. Her yıl milyonlarca turist bu yapıları görmek için İstanbul'a gelir. Kapalıçarşı, "
            "dünyanın en eski ve en büyük kapalı çarşılarından biri olarak bilinir ve binlerce dükkânı barındırır.")
TEXTS = {"ko": PARAGRAPHS["ko"], "th": PARAGRAPHS["th"], "km": UDHR_NO_WORDS["km"], "bo": UDHR_NO_WORDS["bo"],
         "tr": _TURKISH}
# Gopher's, C4's and FineWeb's word rules of the default web chain (``lang_params._NO_WORDS``)
WORD_RULES = {"c4.max_word_length", "c4.min_words_per_line", "fineweb.max_newline_words",
              "gopher_repetition.max_dup_ngram_char_frac", "gopher_repetition.max_top_ngram_char_frac",
              "gopher_quality.max_mean_word_length", "gopher_quality.max_words", "gopher_quality.min_alpha_words",
              "gopher_quality.min_mean_word_length", "gopher_quality.min_words"}


def _run(tmp_path: Path, languages: list[str], copies: int = 2, in_process: bool = True) -> tuple[dict, str, str, dict]:
    """A crawl and filter run of ``copies`` documents of each language (two files: two filter shards), in this
    process or on Ray (the session's local Ray: tasks in its worker processes)."""
    files = []
    for part in range(2):
        path = tmp_path / f"docs{part}.jsonl"
        path.write_text("".join(json.dumps({"id": f"{code}-{part}-{i}", "text": TEXTS[code]}, ensure_ascii=False)
                                + "\n" for code in languages for i in range(copies // 2)))
        files.append(str(path))
    sources = [{"name": "web", "kind": "jsonl", "paths": files}]
    stages = {"order": ["crawl", "filter"],
              "filter": {"per_source": {"web": {"language": {"languages": languages}}}}}
    manifest = load_manifest(write_manifest(tmp_path, sources, stages=stages, ray={"in_process": in_process}))
    run_manifest(manifest)
    run_dir = manifest.run_dir
    counts = json.loads((run_dir / "stats" / "filter.json").read_text())["counts"]
    report = json.loads((run_dir / "report" / "stats.json").read_text())
    return counts, (run_dir / "report" / "report.html").read_text(), str(run_dir), report


@pytest.fixture()
def khmer_missing(monkeypatch: pytest.MonkeyPatch) -> str:
    why = f"{LIBRARY_MODULES[KHMER][0]} is not installed: {LIBRARY_MODULES[KHMER][1]}"
    monkeypatch.setitem(lang_params._missing_cache, KHMER, why)
    monkeypatch.setattr(lang_params, "_missing_warned", {})
    return why


def test_rules_skipped_for_a_missing_library_are_counted_and_reported(tmp_path: Path, khmer_missing: str,
                                                                      capsys: pytest.CaptureFixture) -> None:
    counts, page, _, report = _run(tmp_path, ["ko", "th", "km", "bo", "tr"])
    assert counts["docs_in"] == 10 and counts["source.web.docs_out"] == 10  # normal prose: every document kept
    off = {k.removeprefix("rules_off.web."): v for k, v in counts.items() if k.startswith("rules_off.")}
    # both shards' counts merged: 2 documents per language; Khmer's stop-word rule is off for the missing library
    # (FineWeb-2's khm_Khmr list needs its words), Turkish's for its missing list
    stop = "gopher_quality.min_stop_words"
    assert off == {**{f"km.library_missing.{rule}": 2 for rule in WORD_RULES | {stop}},
                   f"tr.no_stop_words.{stop}": 2, **{f"bo.no_segmenter.{rule}": 2 for rule in WORD_RULES | {stop}}}
    assert not [k for k in off if k.startswith(("ko.", "th."))]

    section = report["filter"]["rules_off"]["web"]
    assert list(section) == ["bo", "km", "tr"]
    km = section["km"]["library_missing"]
    assert km["docs"] == 2 and set(km["rules"]) == WORD_RULES | {stop} and list(section["km"]) == ["library_missing"]
    assert km["install"] == LIBRARY_MODULES[KHMER][1] and "khmernltk is not installed" in km["reason"]
    assert section["tr"]["no_stop_words"]["rules"] == {stop: 2}
    assert section["bo"]["no_segmenter"]["install"] is None and "botok" in section["bo"]["no_segmenter"]["reason"]

    assert "Word rules skipped: no word segmenter" in page and 'href="#segmenters"' in page
    assert "khmer-nltk==1.6" in page  # the install command
    assert 'data-key="/filter/rules_off/web/km/library_missing/docs"' in page
    assert "Rules off for a language" in page  # Turkish's missing stop-word list, in the filter section
    assert _assert_page_matches(page, report)  # every number shown is the JSON's

    summary = capsys.readouterr().err
    warnings = [line.strip() for line in summary.splitlines() if line.strip().startswith("warning: web:")]
    assert warnings == [
        f"warning: web: 2 bo documents judged without 11 word rules ({section['bo']['no_segmenter']['reason']})",
        f"warning: web: 2 km documents judged without 11 word rules ({km['reason']}); install: {km['install']}"]


def test_tibetan_rules_skipped_on_ray_are_counted_and_merged(ray_local, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    """On Ray (each shard decided in a worker process): Tibetan's word rules, skipped everywhere (no segmenter), are
    counted in each shard's statistics and merged (2 documents, one per shard); Thai has none."""
    counts, page, _, report = _run(tmp_path, ["th", "bo"], in_process=False)
    off = {k.removeprefix("rules_off.web."): v for k, v in counts.items() if k.startswith("rules_off.")}
    assert off == {f"bo.no_segmenter.{rule}": 2 for rule in WORD_RULES | {"gopher_quality.min_stop_words"}}
    assert list(report["filter"]["rules_off"]["web"]) == ["bo"]
    assert 'id="segmenters"' in page and "botok" in page
    assert "warning: web: 2 bo documents judged without 11 word rules" in capsys.readouterr().err


def test_a_run_with_the_libraries_present_shows_no_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture) -> None:
    """Korean, Thai, Khmer (FineWeb-2's khm_Khmr stop words) with their libraries, and Turkish: nothing counted but
    Turkish's missing stop-word list, no warning section, no warning in the summary."""
    monkeypatch.setitem(lang_params._missing_cache, KHMER, None)  # as if installed, whatever this machine has
    counts, page, _, report = _run(tmp_path, ["ko", "th", "km", "tr"])
    off = {k: v for k, v in counts.items() if k.startswith("rules_off.")}
    assert off == {"rules_off.web.tr.no_stop_words.gopher_quality.min_stop_words": 2}
    assert list(report["filter"]["rules_off"]["web"]) == ["tr"]
    assert "Word rules skipped" not in page and 'id="segmenters"' not in page
    assert "warning:" not in capsys.readouterr().err


def test_a_run_without_language_specific_skips_writes_no_new_counts(tmp_path: Path) -> None:
    """English and Thai: no rule is off for a cause, so the statistics hold no ``rules_off`` key and the report's
    section is empty (the statistics of such a run are what they were before these counts)."""
    TEXTS["en"] = ("The river town grew up around a stone bridge that carried the old road over the water. Its "
                   "market was held every week in the square before the church, and farmers from the villages "
                   "around it brought grain, wool and cheese to sell. ") * 3
    try:
        counts, page, _, report = _run(tmp_path, ["en", "th"])
    finally:
        del TEXTS["en"]
    assert not [k for k in counts if k.startswith("rules_off.")]
    assert "rules_off" not in report["filter"]
    assert "Word rules skipped" not in page and "Rules off for a language" not in page
