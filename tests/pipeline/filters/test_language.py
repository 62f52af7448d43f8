"""Language identification with the bundled lid.176.ftz: keep-list, minimum score, model path."""

from __future__ import annotations

import pytest

from pipeline.filters.language import LanguageOptions, bundled_model_path
from tests.pipeline.filters.support import SHARED_DATA, evaluate, signal, verdict

ENGLISH = ("It is a truth universally acknowledged, that a single man in possession of a good fortune, "
           "must be in want of a wife.")
FRENCH = ("Longtemps, je me suis couché de bonne heure. Parfois, à peine ma bougie éteinte, mes yeux se "
          "fermaient si vite que je n'avais pas le temps de me dire: je m'endors.")


def test_defaults_are_finewebs():
    assert LanguageOptions().languages == ["en"] and LanguageOptions().min_score == 0.65


def test_language_and_score_are_signals():
    table, verdicts = evaluate({"language": {}}, [ENGLISH, FRENCH, "xxxxxxxxxx"])
    assert table["language"].to_pylist()[:2] == ["en", "fr"]
    assert table["language_score"][0].as_py() > 0.9
    assert verdicts == [None, ("language", "not_in_keep_list"), ("language", "low_score")]


def test_real_book_is_english():
    text = (SHARED_DATA / "books" / "the-verdict.txt").read_text(encoding="utf-8")
    assert signal("language", "language", text) == "en"


def test_min_score_boundary_and_keep_any_language():
    score = signal("language", "language_score", ENGLISH)
    assert verdict("language", ENGLISH, min_score=score) is None
    assert verdict("language", ENGLISH, min_score=min(score + 1e-6, 1.0)) == ("language", "low_score")
    assert verdict("language", FRENCH, languages=None) is None
    assert verdict("language", FRENCH, languages=["en", "fr"]) is None


@pytest.mark.parametrize("score", [-0.01, 1.01])
def test_min_score_is_a_probability(score):
    with pytest.raises(ValueError, match="min_score"):
        LanguageOptions(min_score=score)
    assert LanguageOptions(min_score=0).min_score == 0 and LanguageOptions(min_score=1).min_score == 1


def test_model_path(tmp_path):
    assert signal("language", "language", FRENCH, model_path=bundled_model_path()) == "fr"
    missing = tmp_path / "lid.176.bin"
    with pytest.raises(ValueError, match="lid.176.bin"):
        verdict("language", ENGLISH, model_path=str(missing))


def test_huge_document_reads_only_the_prefix():
    text = FRENCH + " " + ENGLISH * 2000
    assert signal("language", "language", text, max_chars=len(FRENCH)) == "fr"
    assert signal("language", "language", text) == "en"


def test_the_language_rules_skip_a_declared_language_the_model_has_no_label_for() -> None:
    import numpy as np

    from pipeline.filters.base import DECLARED
    from pipeline.filters.language import LanguageFilter, model_languages

    known = model_languages(None)
    assert known is not None and len(known) == 176 and {"zh", "yue", "wuu", "en"} <= known
    assert not {"lzh", "nan", "zu", "und"} & known
    rule = LanguageFilter(LanguageFilter.Options(source_language=True, languages=["en"]))
    signals = {"language": np.array(["zh", "zh", "en", "zh", "fr"], dtype=object),
               "language_score": np.array([0.3, 0.3, 0.9, 0.9, 0.9]),
               DECLARED: np.array(["lzh", "zh", None, "ja", "zu"], dtype=object)}
    fired = {r.name: r.fired.tolist() for r in rule.rules(signals)}
    assert fired == {"not_in_keep_list": [False, False, False, True, False],
                     "low_score": [False, True, False, False, False]}
