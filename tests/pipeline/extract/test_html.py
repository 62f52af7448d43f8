"""HTML main-text extraction and charset decoding, checked on real article pages with ground truth."""

from __future__ import annotations

import gzip
import json
import re
import statistics
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from pipeline.extract.html import decode_html, extract_text

PREFIX = "article-extraction-benchmark/"


@pytest.fixture(scope="module")
def articles(shared_data: Path) -> list[tuple[str, str]]:
    """(html, ground-truth article body) of the first 30 benchmark pages, in name order."""
    with tarfile.open(shared_data / "web" / "article-extraction-benchmark-html.tar") as tar:
        truth = json.load(tar.extractfile(PREFIX + "ground-truth.json"))
        keys = sorted(truth)[:30]
        return [(gzip.decompress(tar.extractfile(f"{PREFIX}html/{k}.html.gz").read()).decode("utf-8"),
                 truth[k]["articleBody"]) for k in keys]


def shingles(text: str) -> Counter:
    tokens = re.findall(r"\w+", text)
    return Counter(tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3)))


def test_main_text_matches_ground_truth(articles: list[tuple[str, str]]) -> None:
    precisions, recalls = [], []
    for page, truth in articles:
        got, want = shingles(extract_text(page)), shingles(truth)
        tp = sum((got & want).values())
        precisions.append(tp / max(1, sum(got.values())))
        recalls.append(tp / max(1, sum(want.values())))
    assert statistics.mean(precisions) > 0.85 and statistics.mean(recalls) > 0.9


def test_article_body_in_headline_and_menus_out(articles: list[tuple[str, str]]) -> None:
    page, truth = articles[0]
    text = extract_text(page)
    first_sentence = truth.split("\n")[0][:80]
    assert first_sentence in text
    headline = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    if headline and headline.group(1).strip() and "<" not in headline.group(1):
        assert not text.startswith(headline.group(1).strip())


def test_bytes_input_and_empty_page() -> None:
    assert extract_text(b"<html><body></body></html>") == ""
    assert "Hello world" in extract_text("<html><body><p>Hello world, this is a paragraph.</p></body></html>")


def test_decode_prefers_valid_utf8_over_declared() -> None:
    text, charset = decode_html("Grüße aus Köln".encode("utf-8"), "iso-8859-1")
    assert text == "Grüße aus Köln" and charset == "utf-8"


def test_decode_declared_and_meta_and_broken() -> None:
    latin = "café crème".encode("cp1252")
    assert decode_html(latin, "windows-1252") == ("café crème", "windows-1252")
    cyr = '<meta charset="windows-1251"><p>Привет, мир</p>'.encode("cp1251")
    text, charset = decode_html(cyr, None)
    assert "Привет" in text and charset == "cp1251"
    text, _ = decode_html(b"ok \xff\xfe\x80 still ok", "no-such-charset")  # never raises
    assert text.startswith("ok") and text.endswith("still ok")
