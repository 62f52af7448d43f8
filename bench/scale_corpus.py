"""A corpus of any size for scale runs, derived from the shared real pages, wiki dump and books.

What "1x" is: the demo's inputs (``samples/``): its HTML pages (200, > 1 kB) in the web WARCs, its
Wikipedia articles and its books. ``--scale S`` writes S times as many records of each kind (fractions
allowed for tests), so every size has the same mixture and per-record work stays comparable.

How records are made (derived data: real markup and real text, recombined; see the ``PROVENANCE.md``
written beside the corpus):

* web: each record is a real HTML page of the shared WARCs (``../shared/data/web``, cycled) whose markup
  is kept as it is, every visible text node's text replaced by as many characters of real prose (book and
  Wikipedia paragraphs drawn at random for that record: Chinese paragraphs for a Chinese page), ending
  at a sentence end where the replaced text ended one. Pages keep their real size, structure,
  boilerplate and share of punctuated lines; their text is distinct from every other record's.
  Written as gzip WARC members (one per record: warcinfo, then one response per page), URL
  ``<scheme>://r<N>.<host><path>``: distinct, same registered domain;
* wiki: each page is a real article of the demo's dump with every prose line replaced the same way
  (templates, tables, headings markup and categories kept), title ``<title> (<N>)``, in MediaWiki XML
  ``.xml.bz2`` dumps with the demo dump's ``<siteinfo>``;
* books: the demo's books, Gutenberg header and footer kept, the body's paragraphs replaced by random
  paragraphs of the same language totalling the same length, one ``.txt`` file each.

Duplicates, per kind of record and exactly as stated: ``--exact-share`` of the records are an earlier
record of the same kind again, byte for byte, under a new URL/title/file name; ``--near-share`` are an
earlier record with ``--edit-rate`` of its words (characters for text without spaces) substituted,
deleted or doubled (1 %: ~0.9 Jaccard on 5-word shingles). ``records.jsonl`` lists every record with its
kind and the record it copies, so a run's dedup can be scored against it. Same arguments, same bytes.

    .venv/bin/python bench/scale_corpus.py --scale 10 --out /tmp/scale-10x
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import json
import random
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from xml.sax.saxutils import escape

import lxml.html
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SAMPLES = REPO / "samples"
DEMO_WIKI = "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
SKIP_TAGS = {"script", "style", "noscript", "template"}
HAN = re.compile(r"[\u3400-\u9fff]")
SENTENCE_END = re.compile(r"[.!?](?=\s)|[。！？]")
TERMINAL = tuple('.!?。！？"\'”)')
MARKUP_LEFT = re.compile(r"[\[\]{}|<>=]|&\w+;|https?://")  # what the rough wikitext cleanup may leave


# ------------------------------------------------------------------------------------------- real text

def _book_body(text: str) -> tuple[str, str, str]:
    """(header, body, footer) of a Gutenberg book (the whole text as body when it has no markers)."""
    start = re.search(r"^\*\*\* ?START OF.*$", text, flags=re.M)
    end = re.search(r"^\*\*\* ?END OF.*$", text, flags=re.M)
    if not start or not end or end.start() < start.end():
        return "", text, ""
    return text[:start.end()], text[start.end():end.start()], text[end.start():]


def _split_paragraphs(text: str, min_chars: int) -> list[str]:
    paras = (" ".join(p.split()) for p in re.split(r"(?:\r?\n){2,}", text.replace("\r\n", "\n")))
    return [p for p in paras if len(p) >= min_chars]


def _wiki_prose(wikitext: str) -> str:
    """A rough plain text of wikitext, only for paragraph pools (templates, refs, links, quotes removed)."""
    text = re.sub(r"<ref[^>]*/>|<ref.*?</ref>|<!--.*?-->", "", wikitext, flags=re.S)
    for _ in range(4):
        text = re.sub(r"\{\{[^{}]*\}\}", "", text)
    text = re.sub(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]", r"\1", text)
    text = re.sub(r"\[https?://\S+ ([^\]]*)\]|'{2,}|<[^>]+>", r"\1", text)
    return "\n\n".join(line for line in text.split("\n") if line and line[0] not in "{|!*#:=[")


def _wiki_pages(xml: str) -> Iterator[tuple[str, str]]:
    """(title, wikitext) of each article (no redirects, main namespace) of a dump."""
    for page in re.findall(r"<page>.*?</page>", xml, flags=re.S):
        title = re.search(r"<title>(.*?)</title>", page, flags=re.S)
        ns = re.search(r"<ns>(\d+)</ns>", page)
        text = re.search(r"<text[^>]*>(.*?)</text>", page, flags=re.S)
        if not title or not text or (ns and ns.group(1) != "0") or "<redirect" in page:
            continue
        body = _unescape(text.group(1))
        if not body.lstrip().lower().startswith("#redirect"):
            yield _unescape(title.group(1)), body


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


@dataclass
class Pools:
    """Real paragraphs by script, drawn from to fill records: ``latin`` (English books and Wikipedia)
    and ``han`` (the Chinese book and zhwiki)."""

    latin: list[str]
    han: list[str]

    @classmethod
    def load(cls, shared: Path) -> "Pools":
        latin: list[str] = []
        for path in sorted((shared / "books").glob("*.txt")):
            if path.name.startswith(("gutenberg-", "the-verdict")):
                latin += _split_paragraphs(_book_body(path.read_text(encoding="utf-8", errors="replace"))[1], 200)
        xml = bz2.decompress((shared / DEMO_WIKI).read_bytes()).decode("utf-8")
        for _, wikitext in _wiki_pages(xml):
            latin += [p for p in _split_paragraphs(_wiki_prose(wikitext), 200) if not MARKUP_LEFT.search(p)]
        han = _split_paragraphs(_book_body((shared / "books/zh-hongloumeng-pg24264.txt").read_text(
            encoding="utf-8", errors="replace"))[1], 60)
        for _, wikitext in _wiki_pages((shared / "wiki/zhwiki-test-pages.xml").read_text(encoding="utf-8")):
            han += [p for p in _split_paragraphs(_wiki_prose(wikitext), 60) if not MARKUP_LEFT.search(p)]
        return cls(latin, han)

    def pool(self, sample: str) -> list[str]:
        return self.han if len(HAN.findall(sample)) > 0.2 * max(1, len(sample.strip())) else self.latin


class Prose:
    """An endless run of random real paragraphs, handed out by length: cut at the sentence end nearest the
    length asked when the text it replaces ended a sentence (so the share of lines with terminal
    punctuation, which filters count, stays the real page's), else at a word boundary."""

    def __init__(self, pool: list[str], rng: random.Random):
        self.pool, self.rng, self.buffer = pool, rng, ""
        self.spaced = " " in pool[0]

    def take(self, n: int, sentence: bool = False) -> str:
        while len(self.buffer) < 2 * n + 200:
            self.buffer += self.rng.choice(self.pool) + (" " if self.spaced else "")
        cut = 0
        if sentence:
            ends = [m.end() for m in SENTENCE_END.finditer(self.buffer, 0, 2 * n + 100)]
            cut = min(ends, key=lambda e: abs(e - n), default=0)
        if not cut and self.spaced:
            space = self.buffer.rfind(" ", max(1, n - 20), n + 20)
            cut = space if space > 0 else n
        text, self.buffer = self.buffer[:cut or n].strip(), self.buffer[cut or n:].lstrip()
        return text or self.buffer[:1]


def edit(text: str, rate: float, rng: random.Random) -> str:
    """Substitute, delete or double ``rate`` of the words (characters where there are no spaces)."""
    spaced = " " in text
    units = text.split(" ") if spaced else list(text)
    out: list[str] = []
    for unit in units:
        if rng.random() >= rate:
            out.append(unit)
            continue
        op = rng.randrange(3)
        if op == 0:
            out.append(rng.choice(units))
        elif op == 2:
            out += [unit, unit]
    return (" " if spaced else "").join(out)


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


# --------------------------------------------------------------------------------------------- records

@dataclass(frozen=True)
class Page:
    """A real HTML page of the shared WARCs: the template of web records."""

    url: str
    date: str
    html: str
    origin: str


def _charset(headers: StatusAndHeaders, body: bytes) -> str:
    found = re.search(r"charset=[\"']?([\w-]+)", headers.get_header("Content-Type") or "", flags=re.I) or \
        re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", body[:4096], flags=re.I)
    name = found.group(1) if found else "utf-8"
    return name.decode("ascii", "replace") if isinstance(name, bytes) else name


def real_pages(shared: Path) -> list[Page]:
    """Every HTML response with status 200 and a body over 1 kB in the shared WARCs, in file order."""
    pages: list[Page] = []
    for path in sorted((shared / "web").glob("*.warc*")):
        if ".wet" in path.name or ".wat" in path.name:
            continue
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                headers = record.http_headers
                if record.rec_type != "response" or headers is None or headers.get_statuscode() != "200":
                    continue
                if "html" not in (headers.get_header("Content-Type") or ""):
                    continue
                body = record.content_stream().read()
                if len(body) <= 1000:
                    continue
                try:
                    html = body.decode(_charset(headers, body), errors="replace")
                except LookupError:
                    html = body.decode("utf-8", errors="replace")
                pages.append(Page(record.rec_headers.get_header("WARC-Target-URI"),
                                  record.rec_headers.get_header("WARC-Date"), html, path.name))
    return pages


def web_record(page: Page, pools: Pools, seed: int, edit_rate: float = 0.0, edit_seed: int = 0) -> bytes:
    """The page's markup with every visible text replaced by real prose of the same length (UTF-8)."""
    root = lxml.html.document_fromstring(page.html)
    texts = [t for el in root.iter() if isinstance(el.tag, str) and el.tag not in SKIP_TAGS
             for t in (el.text,) if t and t.strip()]
    prose = Prose(pools.pool(" ".join(texts)[:4000]), random.Random(seed))
    editor = random.Random(edit_seed)

    def replace(text: str | None) -> str | None:
        if not text or not text.strip():
            return text
        core = text.strip()
        new = prose.take(len(core), core.endswith(TERMINAL))
        if edit_rate:
            new = edit(new, edit_rate, editor)
        start = text.find(core[0])
        return text[:start] + new + text[start + len(core):]

    for el in root.iter():
        if not isinstance(el.tag, str):  # comments and processing instructions: only their tails
            el.tail = replace(el.tail)
            continue
        if el.tag not in SKIP_TAGS:
            el.text = replace(el.text)
        el.tail = replace(el.tail)
        if el.tag == "meta":
            if el.get("charset"):
                el.set("charset", "utf-8")
            elif (el.get("http-equiv") or "").lower() == "content-type":
                el.set("content", "text/html; charset=utf-8")
    return lxml.html.tostring(root, encoding="utf-8", method="html", doctype="<!DOCTYPE html>")


def wiki_record(wikitext: str, pools: Pools, seed: int, edit_rate: float = 0.0, edit_seed: int = 0) -> str:
    """The article's wikitext with each prose line (and list item's text) replaced by real prose."""
    prose = Prose(pools.latin, random.Random(seed))
    editor = random.Random(edit_seed)
    out = []
    for line in wikitext.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith(("{", "|", "!", "}", "<", "[[Category", "[[File", "[[Image", "=")):
            out.append(line)
            continue
        prefix = re.match(r"^[*#:;]*\s*", line).group(0)
        new = prose.take(len(line) - len(prefix), stripped.endswith(TERMINAL))
        out.append(prefix + (edit(new, edit_rate, editor) if edit_rate else new))
    return "\n".join(out)


def book_record(text: str, pools: Pools, seed: int, edit_rate: float = 0.0, edit_seed: int = 0) -> str:
    """The book's Gutenberg header and footer around random real paragraphs of the body's length."""
    header, body, footer = _book_body(text)
    prose = Prose(pools.pool(body[:4000]), random.Random(seed))
    editor = random.Random(edit_seed)
    paras, size = [], 0
    while size < len(body.strip()):
        para = prose.take(600, True)
        paras.append(edit(para, edit_rate, editor) if edit_rate else para)
        size += len(para) + 2
    return f"{header}\n\n" + "\n\n".join(paras) + f"\n\n{footer}"


# ------------------------------------------------------------------------------------------------ plan

def demo_counts(samples: Path = SAMPLES) -> dict[str, int]:
    """1x: the demo's HTML pages (200, > 1 kB), Wikipedia articles and books."""
    web = 0
    for path in sorted((samples / "web").glob("*.warc.gz")):
        if ".wet" in path.name:
            continue
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                headers = record.http_headers
                if (record.rec_type == "response" and headers is not None and headers.get_statuscode() == "200"
                        and "html" in (headers.get_header("Content-Type") or "")
                        and len(record.content_stream().read()) > 1000):
                    web += 1
    wiki = sum(1 for path in sorted((samples / "wiki").glob("*.bz2"))
               for _ in _wiki_pages(bz2.decompress(path.read_bytes()).decode("utf-8")))
    return {"web": web, "wiki": wiki, "books": len(list((samples / "books").glob("*.txt")))}


def kinds(n: int, exact: float, near: float, rng: random.Random) -> list[tuple[str, int | None]]:
    """(kind, copied record) per record: round(share * n) exact and near copies of earlier unique records."""
    n_exact, n_near = round(exact * n), round(near * n)
    if n and n_exact + n_near >= n:
        raise ValueError(f"{n} records cannot hold {n_exact} exact and {n_near} near copies and one original")
    labels = ["exact"] * n_exact + ["near"] * n_near + ["unique"] * (n - n_exact - n_near)
    rng.shuffle(labels)
    if labels:
        first = labels.index("unique")
        labels[0], labels[first] = labels[first], labels[0]
    out: list[tuple[str, int | None]] = []
    uniques: list[int] = []
    for i, label in enumerate(labels):
        if label == "unique":
            uniques.append(i)
            out.append((label, None))
        else:
            out.append((label, rng.choice(uniques)))
    return out


@dataclass(frozen=True)
class Options:
    scale: float
    exact_share: float = 0.05
    near_share: float = 0.10
    edit_rate: float = 0.01
    seed: int = 0
    web_per_file: int = 200
    wiki_per_file: int = 100


def build(out: Path, options: Options, shared: Path = SHARED, samples: Path = SAMPLES) -> dict:
    """Write the corpus under ``out`` (``web/``, ``wiki/``, ``books/``, ``records.jsonl``, ``corpus.json``,
    ``PROVENANCE.md``); returns what ``corpus.json`` says."""
    base = demo_counts(samples)
    counts = {k: max(1, round(v * options.scale)) for k, v in base.items()}
    pools = Pools.load(shared)
    out.mkdir(parents=True, exist_ok=True)
    listing: list[dict] = []
    sizes = {"web": _write_web(out, counts["web"], options, pools, real_pages(shared), listing),
             "wiki": _write_wiki(out, counts["wiki"], options, pools, samples, listing),
             "books": _write_books(out, counts["books"], options, pools, samples, listing)}
    with open(out / "records.jsonl", "w", encoding="utf-8") as fh:
        for row in listing:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    summary = {
        "scale": options.scale, "demo_counts": base, "records": counts, "bytes_written": sizes,
        "options": options.__dict__,
        "duplicates": {source: {kind: sum(1 for r in listing if r["source"] == source and r["kind"] == kind)
                                for kind in ("unique", "exact", "near")} for source in counts},
    }
    (out / "corpus.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
    (out / "PROVENANCE.md").write_text(PROVENANCE.format(**options.__dict__))
    return summary


def _plan(source: str, n: int, options: Options) -> list[tuple[str, int | None]]:
    return kinds(n, options.exact_share, options.near_share, random.Random(_seed(options.seed, source, "kinds")))


def _record_seeds(source: str, i: int, kind: str, copy_of: int | None, options: Options) -> tuple[int, int, float]:
    """(content seed, edit seed, edit rate): a copy takes its original's content seed."""
    original = i if copy_of is None else copy_of
    rate = options.edit_rate if kind == "near" else 0.0
    return _seed(options.seed, source, original), _seed(options.seed, source, i, "edit"), rate


def _write_web(out: Path, n: int, options: Options, pools: Pools, pages: list[Page], listing: list[dict]) -> int:
    order = list(range(len(pages)))
    random.Random(_seed(options.seed, "web", "templates")).shuffle(order)
    folder = out / "web"
    folder.mkdir(exist_ok=True)
    size, fh, writer = 0, None, None
    for i, (kind, copy_of) in enumerate(_plan("web", n, options)):
        if i % options.web_per_file == 0:
            if fh:
                size += fh.tell()
                fh.close()
            name = f"scale-{i // options.web_per_file:05d}.warc.gz"
            fh = open(folder / name, "wb")
            writer = WARCWriter(fh, gzip=True)
            info = writer.create_warcinfo_record(name, {"software": "refinery bench/scale_corpus.py",
                                                        "description": "derived data, see PROVENANCE.md"})
            info.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.UUID(int=_seed(name) << 64 | 1)}>")
            info.rec_headers.replace_header("WARC-Date", "2026-01-01T00:00:00Z")
            writer.write_record(info)
        original = i if copy_of is None else copy_of
        page = pages[order[original % len(pages)]]
        content, edit_seed, rate = _record_seeds("web", i, kind, copy_of, options)
        body = web_record(page, pools, content, rate, edit_seed)
        scheme, rest = page.url.split("://", 1)
        url = f"{scheme}://r{i}.{rest}"
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                           ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                           warc_headers_dict={
                                               "WARC-Record-ID": f"<urn:uuid:{uuid.UUID(int=_seed('web', i))}>",
                                               "WARC-Date": page.date})
        writer.write_record(record)
        listing.append({"source": "web", "index": i, "id": url, "kind": kind, "copy_of": copy_of,
                        "template": f"{page.origin} {page.url}", "file": f"web/{name}"})
    if fh:
        size += fh.tell()
        fh.close()
    return size


def _write_wiki(out: Path, n: int, options: Options, pools: Pools, samples: Path, listing: list[dict]) -> int:
    dumps = sorted((samples / "wiki").glob("*.bz2"))
    articles = [a for path in dumps for a in _wiki_pages(bz2.decompress(path.read_bytes()).decode("utf-8"))]
    first = bz2.decompress(dumps[0].read_bytes()).decode("utf-8")
    head = first[:first.index("</siteinfo>") + len("</siteinfo>")] + "\n"
    folder = out / "wiki"
    folder.mkdir(exist_ok=True)
    size, parts = 0, []
    plan = _plan("wiki", n, options)
    for i, (kind, copy_of) in enumerate(plan):
        original = i if copy_of is None else copy_of
        title, wikitext = articles[original % len(articles)]
        content, edit_seed, rate = _record_seeds("wiki", i, kind, copy_of, options)
        text = wiki_record(wikitext, pools, content, rate, edit_seed)
        page_title = f"{title} ({i})"
        parts.append(f"  <page>\n    <title>{escape(page_title)}</title>\n    <ns>0</ns>\n    <id>{i + 1}</id>\n"
                     f"    <revision>\n      <id>{i + 1}</id>\n      <timestamp>2026-01-01T00:00:00Z</timestamp>\n"
                     f"      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
                     f"      <text xml:space=\"preserve\">{escape(text)}</text>\n    </revision>\n  </page>\n")
        name = f"scale-{i // options.wiki_per_file:05d}.xml.bz2"
        listing.append({"source": "wiki", "index": i, "id": page_title, "kind": kind, "copy_of": copy_of,
                        "template": title, "file": f"wiki/{name}"})
        if len(parts) == options.wiki_per_file or i == len(plan) - 1:
            data = bz2.compress((head + "".join(parts) + "</mediawiki>\n").encode("utf-8"), 9)
            (folder / name).write_bytes(data)
            size += len(data)
            parts = []
    return size


def _write_books(out: Path, n: int, options: Options, pools: Pools, samples: Path, listing: list[dict]) -> int:
    books = sorted((samples / "books").glob("*.txt"))
    folder = out / "books"
    folder.mkdir(exist_ok=True)
    size = 0
    for i, (kind, copy_of) in enumerate(_plan("books", n, options)):
        original = i if copy_of is None else copy_of
        template = books[original % len(books)]
        content, edit_seed, rate = _record_seeds("books", i, kind, copy_of, options)
        text = book_record(template.read_text(encoding="utf-8", errors="replace"), pools, content, rate, edit_seed)
        name = f"book-{i:06d}-{template.stem}.txt"
        data = text.encode("utf-8")
        (folder / name).write_bytes(data)
        size += len(data)
        listing.append({"source": "books", "index": i, "id": name, "kind": kind, "copy_of": copy_of,
                        "template": template.name, "file": f"books/{name}"})
    return size


PROVENANCE = """# Derived data: a scale-run corpus ({scale}x the demo)

Written by `bench/scale_corpus.py` (seed {seed}); not real crawl output. Every record recombines real
third-party material from `shared/data` (see its PROVENANCE.md for sources and licences):

- `web/*.warc.gz`: real HTML pages of the shared WARCs, markup unchanged, every visible text replaced by
  real prose (Gutenberg books, English Wikipedia; Chinese pages: Hongloumeng and zhwiki) of the same
  length; URLs `<scheme>://r<N>.<original host and path>`.
- `wiki/*.xml.bz2`: the demo dump's articles, prose lines replaced the same way, titles `<title> (<N>)`.
- `books/*.txt`: the demo's books, Gutenberg header/footer kept, body replaced by random real paragraphs.

Duplicates, as planned: {exact_share:.0%} exact copies, {near_share:.0%} near copies ({edit_rate:.0%} of the
words substituted, deleted or doubled) of earlier records of the same kind; `records.jsonl` lists each
record's kind and the record it copies, `corpus.json` the counts.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, required=True, help="records per kind as a multiple of the demo's")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--exact-share", type=float, default=0.05)
    parser.add_argument("--near-share", type=float, default=0.10)
    parser.add_argument("--edit-rate", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    summary = build(args.out, Options(args.scale, args.exact_share, args.near_share, args.edit_rate, args.seed))
    json.dump({k: summary[k] for k in ("records", "bytes_written", "duplicates")}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
