"""Where the extractor loses Chinese, Japanese and Korean text, page by page, and the line-score rule's effect.

Part 1, per page (newspaper4k's zh/ja pages, the UDHR's eng/cmn/jpn/kor declarations, the article benchmark's pages
whose gold is mostly CJK, the shared servo-zh WARCs' HTML responses): the text after each step of
``pipeline.extract.html.extract``, scored against the page's gold with extract_bench's shingle precision / recall
(the UDHR: against all the body's text, and the share of its characters kept; the WARCs: characters only, they
are homepages with no gold):

* ``mc_noskip``: resiliparse's main-content pass without our skip selectors;
* ``mc``: the same with them (our first pass, before the line span);
* ``trim``: ``mc`` after the line span (``_trimmed_text``, without the keep-whole rule);
* ``final``: ``extract`` as the crawl stage calls it (keep-whole rule, full-page fallback);
* ``full``: the full-page pass (no main-content detection), ``trafilatura``: trafilatura(favor_precision).

Part 2, with ``--ab``: every page of the four shared gold sets, newspaper4k (zh, ja, en, others), all 532 UDHR
declarations and every HTML response of the shared WARCs, extracted in one process on the Python path (compiled
``_lines`` off) with the ideographic-full-stop rule off (``SENTENCE_END`` set to a string no line ends with) and
on; per set F1 (UDHR: mean share of the body's characters kept) and every page that changed; and a check that
the compiled path gives the same texts as the Python path.

    taskset -c 0 python bench/cjk_extract_where.py --cache /tmp/gold38-cache --udhr /work/cache/udhr [--ab] [--off]

``--cache``: extract_heldout.py's cache (the newspaper4k sdist); ``--udhr``: udhr_languages.py's cache.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import warnings
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import extract_bench as eb  # noqa: E402
import extract_heldout as eh  # noqa: E402
from resiliparse.extract.html2text import extract_plain_text  # noqa: E402
from resiliparse.parse.html import HTMLTree  # noqa: E402
from udhr_languages import body_text, download  # noqa: E402
from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from pipeline.extract import html as H  # noqa: E402
from pipeline.extract.html import decode_html, extract  # noqa: E402
from pipeline.readers.commoncrawl import Options  # noqa: E402

MAX_TAGS = Options().main_content_max_tags
OFF = "\uffff"  # SENTENCE_END while the rule is off: a noncharacter, which ends no line of text
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
UDHR_SHOWN = ["eng", "cmn_hans", "cmn_hant", "jpn", "kor"]


def stages(page: str) -> dict[str, str]:
    """The page's text after each step (see the module docstring)."""
    import trafilatura

    tree = HTMLTree.parse(page)
    furniture, mediawiki = H._page_furniture(page)
    furniture += H._MEDIAWIKI if mediawiki else []
    common = dict(comments=False, alt_texts=False, list_bullets=False)
    mc = extract_plain_text(tree, main_content=True, post_meta=H.POST_META,
                            skip_elements=H.SKIP_SELECTORS + furniture, **common)
    return {
        "mc_noskip": extract_plain_text(tree, main_content=True, post_meta=H.POST_META, **common),
        "mc": mc,
        "trim": H._trimmed_text(mc, keep_whole=False)[0],
        "final": extract(page, max_tags=MAX_TAGS).text,
        "full": extract_plain_text(tree, main_content=False, skip_elements=H._FALLBACK_SKIP + furniture, **common),
        "trafilatura": trafilatura.extract(page, favor_precision=True) or "",
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _chars(text: str) -> int:
    return len("".join(text.split()))


def load(cache: Path, udhr: Path) -> dict[str, tuple[dict[str, str], dict[str, str] | None]]:
    """{set: (pages decoded, gold or None)}."""
    sets: dict[str, tuple[dict[str, str], dict[str, str] | None]] = {}
    pages, truth = eb.load_articles()
    sets["articles"] = (pages, truth)
    cleaning, _ = eb.load_cleaning_sets()
    sets.update(cleaning)
    gs = eh.newspaper_set(eh._members(cache / "newspaper4k-0.9.6.tar.gz"))
    for name, keep in (("zh", {"zh"}), ("ja", {"ja"}), ("en", {"en"}), ("others", None)):
        keys = [k for k in gs.pages if (gs.language[k] in keep if keep else gs.language[k] not in ("zh", "ja", "en"))]
        sets[f"newspaper4k {name}"] = ({k: decode_html(gs.pages[k]).text for k in keys}, {k: gs.gold[k] for k in keys})
    declarations = {f.stem: decode_html(f.read_bytes()).text
                    for f in sorted((download(udhr) / "declaration").glob("*.html"))}
    sets["udhr"] = (declarations, {k: body_text(v) for k, v in declarations.items()})
    warcs: dict[str, str] = {}
    for path in sorted((REPO.parent / "shared" / "data" / "web").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            # warcio's content_stream() undoes the HTTP Content-Encoding (the servo homepages are gzipped)
            for record in ArchiveIterator(fh):
                content_type = record.http_headers.get_header("Content-Type") if record.http_headers else None
                if record.rec_type != "response" or "html" not in (content_type or ""):
                    continue
                charset = re.search(r"charset=([\w-]+)", content_type)
                uri = record.rec_headers.get_header("WARC-Target-URI")
                warcs[f"{path.name} {uri}"] = decode_html(record.content_stream().read(),
                                                           charset.group(1) if charset else None).text
    sets["shared WARCs"] = (warcs, None)
    return sets


def per_page(sets: dict[str, tuple[dict[str, str], dict[str, str] | None]]) -> None:
    chosen: list[tuple[str, str, str, str | None]] = []  # (set, key, page, gold)
    for name in ("newspaper4k zh", "newspaper4k ja"):
        pages, gold = sets[name]
        chosen += [(name, k, pages[k], gold[k]) for k in pages]
    pages, gold = sets["articles"]
    chosen += [("articles", k, pages[k], gold[k]) for k in pages if len(_CJK.findall(gold[k])) > 0.3 * len(gold[k])]
    pages, gold = sets["udhr"]
    chosen += [("udhr", k, pages[k], gold[k]) for k in UDHR_SHOWN]
    pages, _ = sets["shared WARCs"]
    chosen += [("shared WARCs", k, pages[k], None) for k in pages if k.startswith("servo-zh-")]
    print("| set | page | " + " | ".join(["mc_noskip", "mc", "trim", "final", "full", "trafilatura"]) + " |")
    print("|---|---|" + "---:|" * 6)
    for name, key, page, gold in chosen:
        cells = []
        for text in stages(page).values():
            if gold is None:
                cells.append(f"{_chars(text)} chars")
            else:
                p, r = eb.page_scores(gold, text)
                share = f" ({_chars(text) / _chars(gold):.3f} of chars)" if name == "udhr" else ""
                cells.append(f"R {_fmt(r)} / P {_fmt(p)}{share}")
        print(f"| {name} | {key[:80]} | " + " | ".join(cells) + " |", flush=True)


def ab(sets: dict[str, tuple[dict[str, str], dict[str, str] | None]]) -> None:
    def run() -> dict[str, dict[str, str]]:
        return {name: {k: extract(v, max_tags=MAX_TAGS).text for k, v in pages.items()}
                for name, (pages, _) in sets.items()}

    compiled = run()
    saved, end = H._compiled_lines, H.SENTENCE_END
    try:
        H._compiled_lines = None
        after = run()
        H.SENTENCE_END = OFF
        before = run()
    finally:
        H.SENTENCE_END, H._compiled_lines = end, saved
    print(f"\ncompiled path == Python path on every page: {compiled == after} (compiled built: {saved is not None})")
    for name, (pages, gold) in sets.items():
        changed = [k for k in pages if before[name][k] != after[name][k]]
        if gold is None:
            print(f"{name}: {len(pages)} pages, {len(changed)} changed")
            for k in changed:
                print(f"    {k}: {len(before[name][k])} -> {len(after[name][k])} chars")
        elif name == "udhr":
            share: Callable[[dict, str], float] = lambda texts, k: _chars(texts[name][k]) / _chars(gold[k])
            print(f"udhr: {len(pages)} declarations, {len(changed)} changed; mean share of the body's characters "
                  f"{statistics.mean(share(before, k) for k in pages):.4f} -> "
                  f"{statistics.mean(share(after, k) for k in pages):.4f}")
            for k in changed:
                print(f"    {k}: {share(before, k):.3f} -> {share(after, k):.3f}")
        else:
            b, a = eb.score(gold, before[name]), eb.score(gold, after[name])
            print(f"{name}: {len(pages)} pages, {len(changed)} changed; P / R / F1 "
                  f"{b[0]:.4f} / {b[1]:.4f} / {b[2]:.4f} -> {a[0]:.4f} / {a[1]:.4f} / {a[2]:.4f}")
            for k in changed:
                (pb, rb), (pa, ra) = eb.page_scores(gold[k], before[name][k]), eb.page_scores(gold[k], after[name][k])
                print(f"    {k}: P {_fmt(pb)} -> {_fmt(pa)}, R {_fmt(rb)} -> {_fmt(ra)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="extract_heldout.py's cache (newspaper4k sdist)")
    parser.add_argument("--udhr", type=Path, required=True, help="udhr_languages.py's cache")
    parser.add_argument("--ab", action="store_true", help="also the rule off / on over every set (part 2)")
    parser.add_argument("--off", action="store_true", help="part 1 with the ideographic-full-stop rule off")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    sets = load(args.cache, args.udhr)
    rule = H.SENTENCE_END
    if args.off:
        H.SENTENCE_END = OFF
    per_page(sets)
    if args.ab:
        H.SENTENCE_END = rule
        ab(sets)


if __name__ == "__main__":
    main()
