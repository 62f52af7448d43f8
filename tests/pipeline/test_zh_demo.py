"""manifests/zh-demo.yaml: the shared Chinese web pages, Wikipedia sample and novel through every stage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from contracts.token_dataset import TokenDataset
from pipeline.tokenizer import CJK_CHARS_PATTERN

REPO = Path(__file__).resolve().parents[2]


def test_zh_demo_keeps_every_article_the_novel_and_a_homepage(tmp_path: Path, shared_data: Path) -> None:
    data = yaml.safe_load((REPO / "manifests" / "zh-demo.yaml").read_text())
    for source in data["sources"]:  # the manifest's own inputs, resolved from its folder
        source["paths"] = [str((REPO / "manifests" / p).resolve()) for p in source["paths"]]
        assert all(Path(p).is_file() for p in source["paths"]), source["paths"]
    data["run"]["output_dir"] = str(tmp_path)
    data["stages"]["tokenize"]["tokenizer"]["vocab_size"] = 600  # the manifest's 4096 is slow to train
    data["ray"] = {"num_cpus": 2}
    manifest = tmp_path / "zh.yaml"
    manifest.write_text(yaml.safe_dump(data, allow_unicode=True))
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", str(manifest)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "zh-demo"
    counts = json.loads((run / "stats" / "filter.json").read_text())["counts"]
    # The zhwiki sample has 23 articles: the language rule keeps the dump's own language and the word
    # rules count jieba words, so none is removed (English defaults removed nearly all of them).
    assert counts["source.wiki-zh.docs_in"] == counts["source.wiki-zh.docs_out"] == 23
    assert counts["source.books-zh.docs_out"] == 1 and counts["language_out.books-zh.zh"] == 1
    assert counts["language_out.web-zh.zh"] >= 1
    dedup = json.loads((run / "stats" / "dedup.json").read_text())["counts"]
    assert dedup["docs_out"] == counts["docs_out"]  # no two of these documents are near-duplicates
    tokens = TokenDataset.open(run / "tokens", verify="checksums")
    assert set(tokens.sources) == {"web-zh", "wiki-zh", "books-zh"}
    assert all(tokens.num_tokens("train", s) > 0 for s in tokens.sources)
    # Han characters are 3 UTF-8 bytes: a BPE of 600 ranks trained on this text merges few of them
    assert tokens.index["tokenizer"]["pattern"] == CJK_CHARS_PATTERN
    shard = tokens.shards("train", "wiki-zh")[0]
    text = tokens.decode(shard.values[shard.offsets[0]:shard.offsets[1] - 1])
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 100
    wiki = tokens.source_info("wiki-zh")["languages"]
    assert set(wiki) == {"zh"} and 1.5 < wiki["zh"]["bytes_per_token"] <= 3.2, wiki
    page = (run / "report" / "report.html").read_text()
    assert "wiki-zh" in page and "books-zh" in page and "Bytes per token by language" in page
