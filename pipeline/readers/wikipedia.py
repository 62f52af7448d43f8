"""MediaWiki XML dumps (pages-articles, any export schema version) -> one document per article.

How a dump is read, and why:

* The decompressed stream is cut into ``<page>...</page>`` pieces by plain string search, and each piece
  is parsed on its own with ElementTree. In well-formed XML the text ``<page>`` can only be a tag (a
  literal ``<`` in content is escaped), so the cut is exact; parsing pages one by one means a damaged
  page costs only that page, the reader resynchronises at the next ``<page>``, and memory is bounded by
  the largest page, never the dump. Page pieces carry no namespace declaration, so the element names
  are the same for every export version; the root's ``xmlns`` (the schema version) is still read from
  the header and kept in ``SiteInfo``.
* The bytes are UTF-8 unless the file starts as UTF-16 does (a byte order mark, or ``<`` and a zero byte:
  XML's own detection) or its XML declaration names another charset, which a dump re-saved by another tool
  can do (``sniff_encoding``). A split that starts later in a file decodes with the file's codec (a
  multistream UTF-16 bz2, which no tool is known to write, would also need its streams at even offsets).
* The site's base URL and localised namespace names come from ``<siteinfo>``, so URLs and the
  File/Category link removal are right for non-English dumps too.
* bz2 dumps can be split by byte range: a split decompresses the bz2 streams that *start* in its range.
  A multistream dump (``pages-articles-multistream.xml.bz2``, 100 pages per stream) then reads in
  parallel without its index file; a single-stream file has one stream, so its first split reads it all
  and the others find nothing - correct, just not parallel.

Every page is counted (``pages``) and becomes a document or a ``tally.skip`` with one of these reasons:
``namespace``, ``redirect``, ``disambiguation``, ``content_model``, ``empty_text`` (no wikitext),
``markup_only`` (wikitext, but no word left once the markup is gone), ``too_short``,
``invalid_utf8``, ``malformed_page``, ``truncated_xml``, ``page_too_large``, ``extract_error``.
Damage that is not a page is counted under file-level reasons: ``empty_file``, ``not_mediawiki_xml``,
``stray_data``, ``corrupt_compression``, ``truncated_dump``. Bad data never raises; a file that cannot
be opened does, naming the file.
"""

from __future__ import annotations

import bz2
import codecs
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO, TYPE_CHECKING, Iterator
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from contracts.accounting import Tally
from contracts.fsio import compression_of, file_size, is_damaged_archive, open_input, open_raw
from pipeline.documents import Document
from pipeline.filters.lang_params import wiki_language
from pipeline.readers.base import Reader, Split, byte_ranges, whole_file
from pipeline.readers.source_kind import SourceKind

# pipeline.extract.wikitext (and mwparserfromhell, xml.etree) are imported where a page is read: every run
# imports this module, because the manifest validates every source kind's options, and only a wikipedia
# source needs them (~0.02 CPU s of each run's start, e2e_bench's manifest; issue 19)
if TYPE_CHECKING:
    from pipeline.extract.wikitext import WikitextOptions

try:  # fsspec's zstd codec raises this on corrupt input
    from zstandard import ZstdError
except ImportError:  # pragma: no cover - zstandard is a dependency
    ZstdError = ValueError  # type: ignore[assignment,misc]

CHUNK_BYTES = 1 << 20
HEADER_MAX_CHARS = 4 << 20
PAGE_OPEN, PAGE_CLOSE = "<page>", "</page>"
# Invalid UTF-8 is decoded to this noncharacter (legal in XML, absent from real wikitext), so the page that
# holds the bad bytes can be found and skipped while its neighbours are kept.
BAD_BYTES_MARK = "\ufdd0"
_ERRORS = "refinery-wikipedia-mark"
codecs.register_error(_ERRORS, lambda exc: (BAD_BYTES_MARK, exc.end))  # type: ignore[arg-type,return-value]

_BZ2_MAGIC = re.compile(rb"BZh[1-9]1AY&SY")
_ROOT = re.compile(r"<mediawiki\b([^>]*)>")
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*\"([^\"]*)\"")
_SITEINFO = re.compile(r"<siteinfo>.*?</siteinfo>", re.S)
# A redirect is a <redirect/> element in every export since 0.4; older exports and some mirrors have only the
# wikitext, whose magic word is localised: "#WEITERLEITUNG [[Ziel]]" read as a one-line article before.
# English works on every wiki; the large Wikipedias' own words (MediaWiki's Messages*.php) need their [[link]].
_REDIRECT = re.compile(
    r"\s*#(?:redirect|(?:weiterleitung|redirection|redirección|redireccion|rinvia|rinvio|redirecionamento|"
    r"doorverwijzing|перенаправление|перенапр|перенаправлення|転送|リダイレクト|重定向|patrz|przekieruj|"
    r"omdirigering|ohjaus|uudelleenohjaus|přesměruj|átirányítás|넘겨주기|تحويل|yönlendirme|yönlendir|đổi|הפניה|"
    r"alih)\s*:?\s*\[\[)",
    re.I,
)
# Disambiguation templates: English ones, then the names large Wikipedias use (de, fr, es, it, pt, zh, ja,
# ru, pl). Only whole names match: de's hatnote {{Begriffsklärungshinweis}} sits on real articles.
_DISAMBIG = re.compile(
    r"\{\{\s*(?:disambiguation|disambig|disamb|dab|dis|hndis|geodis|numberdis|schooldis|mathdab|"
    r"shipindex|[^{}|\n]*\bdisambiguation|begriffsklärung|homonymie|desambiguación|desambiguacion|disambigua|"
    r"desambiguação|消歧义|消歧義|aimai|曖昧さ回避|неоднозначность|многозначность|ujednoznacznienie)"
    r"\s*(?:\|[^{}]*)?\}\}|__DISAMBIG__",
    re.I,
)
_WORD = re.compile(r"\w")
_PAGE_ID = re.compile(r"<id>\s*(\d+)\s*</id>")
_PAGE_TITLE = re.compile(r"<title>([^<]*)</title>")
# MediaWiki's wfUrlencode leaves these readable in page URLs.
_URL_SAFE = ";@$!*(),/~:"


def _wikitext() -> ModuleType:
    """The wikitext module, imported on first use (see above)."""
    from pipeline.extract import wikitext

    return wikitext


class Options(BaseModel):
    """Per-source options of the ``wikipedia`` reader (validated with the manifest)."""

    model_config = ConfigDict(extra="forbid")

    namespaces: list[int] = Field(default_factory=lambda: [0], description="namespaces to keep; 0 = articles")
    keep_headings: bool = True
    drop_sections: list[str] = Field(
        default_factory=lambda: sorted(_wikitext().DROP_SECTIONS),
        description="section titles (case-insensitive) dropped with their sub-sections",
    )
    skip_disambiguation: bool = True
    min_chars: int = Field(0, ge=0, description="skip documents whose extracted text is shorter")
    base_url: str | None = Field(
        None, description="page URL prefix; default: from the dump's <siteinfo><base>, else xml:lang"
    )
    split_bytes: int | None = Field(
        256 << 20, ge=1 << 20, description="bz2 byte-range split size (multistream dumps); None: whole file"
    )
    max_page_bytes: int = Field(64 << 20, ge=1 << 16, description="larger pages are skipped, not buffered")


@dataclass
class SiteInfo:
    """What the dump header says about its wiki."""

    namespace_uri: str | None = None
    lang: str | None = None  # xml:lang, else what <base> or <dbname> say (see _site_language); None: unknown
    dbname: str | None = None
    base_url: str | None = None
    namespaces: dict[str, int] = field(default_factory=dict)  # lower-cased localised name -> key

    def names_of(self, key: int) -> set[str]:
        return {name for name, k in self.namespaces.items() if k == key}

    def namespace_of(self, title: str) -> int:
        """Namespace of a title by its prefix, for old dumps whose pages have no ``<ns>``."""
        if ":" not in title:
            return 0
        return self.namespaces.get(title.split(":", 1)[0].strip().lower(), 0)


_PROJECT_HOST = re.compile(r"^[a-z]+://([a-z][a-z0-9-]*)\.(?:m\.)?(?:wikipedia|wiktionary|wikibooks|wikisource|"
                           r"wikiquote|wikinews|wikiversity|wikivoyage)\.org/", re.I)
_PROJECT_DBNAME = re.compile(r"^([a-z][a-z0-9_]*?)(?:wiki|wiktionary|wikibooks|wikisource|wikiquote|wikinews|"
                             r"wikiversity|wikivoyage)$")


def _site_language(base: str | None, dbname: str | None) -> str | None:
    """A Wikimedia wiki's language code from its main page URL (de.wikipedia.org) or its database name
    (dewiki, zh_yuewiki), for dumps whose root has no ``xml:lang`` (older exports, some mirrors): without
    it a German dump was declared English. None for other wikis: their language is not in their name."""
    match = _PROJECT_HOST.match(base or "")
    if match and match.group(1).lower() not in ("www", "commons", "meta", "species"):
        return match.group(1).lower()
    match = _PROJECT_DBNAME.match(dbname or "")
    if match and match.group(1) not in ("commons", "meta", "species", "test"):
        return match.group(1).replace("_", "-")
    return None


def parse_header(header: str) -> SiteInfo | None:
    """``SiteInfo`` from the text before the first page; ``None`` if this is not a MediaWiki export."""
    root = _ROOT.search(header)
    if root is None:
        return None
    attrs = dict(_ATTR.findall(root.group(1)))
    site = SiteInfo(namespace_uri=attrs.get("xmlns"), lang=attrs.get("xml:lang") or None)
    match = _SITEINFO.search(header)
    if match is None:
        return site
    import xml.etree.ElementTree as ET  # here and in _document (see the imports above)

    try:
        info = ET.fromstring(match.group())
    except ET.ParseError:
        return site
    site.dbname = info.findtext("dbname")
    base = info.findtext("base")
    if base and "/" in base:
        site.base_url = base.rsplit("/", 1)[0] + "/"
    site.lang = site.lang or _site_language(base, site.dbname)
    for ns in info.iter("namespace"):
        try:
            key = int(ns.get("key", ""))
        except ValueError:
            continue
        if ns.text:
            site.namespaces[ns.text.strip().lower()] = key
    return site


# ---------------------------------------------------------------- bytes in


class _Damaged(Exception):
    """The compressed stream or the bytes themselves are bad; what was read before is still good."""


def _open(path: str, raw: bool = False) -> IO[bytes]:
    try:
        return open_raw(path) if raw else open_input(path)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"wikipedia dump {path!r} not found ({exc}); check the source paths") from exc
    except OSError as exc:
        raise OSError(f"cannot open wikipedia dump {path!r}: {exc}") from exc


def _file_chunks(path: str) -> Iterator[bytes]:
    """The whole decompressed file in chunks; decompression errors become ``_Damaged``.

    A chunk is gathered from ``read1`` calls (one decompressor step each), so a stream cut short still
    yields what decompressed before the damage; a single ``read(CHUNK_BYTES)`` would drop it with the error.
    """
    with _open(path) as stream:
        read = getattr(stream, "read1", stream.read)
        while True:
            parts: list[bytes] = []
            size = 0
            try:
                while size < CHUNK_BYTES:
                    part = read(CHUNK_BYTES - size)
                    if not part:
                        break
                    parts.append(part)
                    size += len(part)
            except Exception as exc:
                if parts:
                    yield b"".join(parts)
                if is_damaged_archive(exc):
                    raise _Damaged(f"{type(exc).__name__}: {exc}") from exc
                raise
            if parts:
                yield b"".join(parts)
            if size < CHUNK_BYTES:
                return


def _bz2_range_chunks(path: str, start: int, end: int | None, tally: Tally) -> Iterator[bytes]:
    """Decompressed bytes of the bz2 streams that start in ``[start, end)``.

    A stream's start is found by its magic (``BZh<level>1AY&SY``); a false match or a corrupt stream fails
    to decompress, is counted as ``corrupt_compression``, and the search moves on past it. Compressed
    bytes are not kept once fed, so memory stays flat even when one stream is the whole file.
    """
    with _open(path, raw=True) as raw:
        pos = start  # file offset of pending[0]
        pending = b""
        raw.seek(pos)
        while True:
            match = _BZ2_MAGIC.search(pending)
            while match is None:
                data = raw.read(CHUNK_BYTES)
                if not data:
                    return
                keep = pending[-9:]
                pos += len(pending) - len(keep)
                pending = keep + data
                match = _BZ2_MAGIC.search(pending)
            stream_start = pos + match.start()
            if end is not None and stream_start >= end:
                return
            piece, pos = pending[match.start():], stream_start
            decompressor = bz2.BZ2Decompressor()
            try:
                while True:
                    out = decompressor.decompress(piece)
                    pos += len(piece)
                    if out:
                        yield out
                    if decompressor.eof:
                        break
                    piece = raw.read(CHUNK_BYTES)
                    if not piece:
                        raise EOFError("compressed file ended inside a bz2 stream")
            except Exception as exc:  # noqa: BLE001 - only damaged streams are skipped, I/O errors raised
                if not is_damaged_archive(exc):
                    raise
                tally.skip("corrupt_compression", path, str(stream_start), f"{type(exc).__name__}: {exc}")
                pos, pending = stream_start + 1, b""
                raw.seek(pos)
                continue
            pending = decompressor.unused_data
            pos -= len(pending)


_XML_DECLARED = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z][\w.:-]*)[\"']")


def sniff_encoding(head: bytes) -> str:
    """The codec of a dump from its first bytes, as XML 1.0 (appendix F) detects it: UTF-16 by its byte order
    mark or by ``<`` followed by a zero byte, else the ``<?xml ... encoding="..."?>`` declaration, else UTF-8.
    MediaWiki writes UTF-8, but a dump re-saved by another tool can be UTF-16 (gensim ships a bgwiki excerpt
    so) or declare another charset: read as UTF-8 the UTF-16 one was ``not_mediawiki_xml``, every page lost.
    The byte order mark, if any, decodes to U+FEFF before the root element, which the header parse ignores."""
    if head.startswith((b"\xff\xfe", b"<\x00")):
        return "utf-16-le"
    if head.startswith((b"\xfe\xff", b"\x00<")):
        return "utf-16-be"
    declared = _XML_DECLARED.match(head)
    if declared:
        try:
            codec = codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            return "utf-8"  # an unknown name: UTF-8, where bad bytes cost their page (invalid_utf8)
        if not codec.startswith(("utf-16", "utf-32")):  # those without a mark or zero bytes are not what they say
            return codec
    return "utf-8"


def _text_chunks(chunks: Iterator[bytes], encoding: str | None = None) -> Iterator[str]:
    """Decoded text; ``encoding`` None: sniffed from the first bytes (a split that starts later in the file
    gets the file's, see ``read``)."""
    decoder = None
    for chunk in chunks:
        if decoder is None:
            decoder = codecs.getincrementaldecoder(encoding or sniff_encoding(chunk[:256]))(errors=_ERRORS)
        text = decoder.decode(chunk)
        if text:
            yield text
    tail = decoder.decode(b"", final=True) if decoder is not None else ""
    if tail:
        yield tail


# ---------------------------------------------------------------- pages out


@dataclass
class _Scan:
    """What the page cutter saw besides pages."""

    header: str | None = ""  # text before the first page, until it is parsed
    site: SiteInfo | None = None
    bytes_seen: bool = False
    tail: str = ""  # the last characters outside any page: says whether </mediawiki> closed the dump
    truncated_page: bool = False
    pages: int = 0
    damage: str | None = None

    def outside(self, text: str, page_follows: bool, path: str, tally: Tally) -> None:
        """Account for text between pages: the header first, later only whitespace is expected."""
        if self.header is not None:
            self.header += text
            if page_follows or len(self.header) > HEADER_MAX_CHARS:
                self.site, self.header = parse_header(self.header), None
            return
        self.tail = (self.tail + text)[-64:]
        if page_follows:
            junk = text.strip()
            if junk and junk != "</mediawiki>":
                tally.skip("stray_data", path, None, junk[:200])
            self.tail = ""

    @property
    def closed(self) -> bool:
        return self.tail.rstrip().endswith("</mediawiki>")


def _record_of(piece: str) -> str | None:
    match = _PAGE_ID.search(piece) or _PAGE_TITLE.search(piece)
    return match.group(1) if match else None


def _cut_pages(texts: Iterator[str], path: str, tally: Tally, scan: _Scan, max_chars: int) -> Iterator[str]:
    """``<page>...</page>`` pieces of the text stream; broken and oversized pages are counted, not kept.

    Every ``<page>`` seen adds one to ``pages``; each either comes out as a piece or is skipped here.
    """
    buf = ""
    in_page = False
    discarding = False  # inside an oversized page, dropping its text until </page>
    search_from = 0  # where to resume looking for </page> in buf
    try:
        for text in texts:
            scan.bytes_seen = True
            buf += text
            while True:
                if not in_page:
                    start = buf.find(PAGE_OPEN)
                    cut = start if start >= 0 else max(0, len(buf) - len(PAGE_OPEN) + 1)
                    scan.outside(buf[:cut], start >= 0, path, tally)
                    buf = buf[cut:]
                    if start < 0:
                        break
                    in_page, search_from = True, len(PAGE_OPEN)
                    tally.add("pages")
                    scan.pages += 1
                end = buf.find(PAGE_CLOSE, search_from)
                restart = buf.find(PAGE_OPEN, max(len(PAGE_OPEN), search_from - len(PAGE_OPEN)),
                                   end if end >= 0 else len(buf))
                if restart >= 0:  # a page cut short and followed by another page
                    if not discarding:
                        tally.skip("malformed_page", path, _record_of(buf[:restart]),
                                   "page cut short: a new <page> starts before </page>")
                    buf, search_from, discarding = buf[restart:], len(PAGE_OPEN), False
                    tally.add("pages")
                    scan.pages += 1
                    continue
                if end < 0:
                    search_from = max(len(PAGE_OPEN), len(buf) - len(PAGE_CLOSE))
                    if len(buf) > max_chars and not discarding:
                        tally.skip("page_too_large", path, _record_of(buf[:4096]), f"over {max_chars} chars")
                        discarding = True
                    if discarding:  # keep just enough to find the next tag across the chunk boundary
                        buf = PAGE_OPEN + buf[-len(PAGE_CLOSE):]
                        search_from = len(PAGE_OPEN)
                    break
                piece, buf = buf[: end + len(PAGE_CLOSE)], buf[end + len(PAGE_CLOSE):]
                in_page = False
                if discarding:
                    discarding = False
                    continue
                yield piece
    except _Damaged as exc:
        scan.damage = str(exc)
    if scan.header is not None:
        scan.site, scan.header = parse_header(scan.header), None
    if in_page:
        scan.truncated_page = True
        if not discarding:
            tally.skip("truncated_xml", path, _record_of(buf), scan.damage or "input ends inside this page")
    else:
        scan.tail = (scan.tail + buf)[-64:]


# ---------------------------------------------------------------- page -> document


@dataclass
class _Context:
    path: str
    options: Options
    site: SiteInfo
    base_url: str
    wikitext: WikitextOptions


def _context(path: str, options: Options, site: SiteInfo) -> _Context:
    base_url = options.base_url or site.base_url or f"https://{site.lang or 'en'}.wikipedia.org/wiki/"
    module = _wikitext()
    wikitext = module.WikitextOptions(
        keep_headings=options.keep_headings,
        drop_sections=frozenset(s.strip().lower() for s in options.drop_sections),
        file_namespaces=module.FILE_NAMESPACES | site.names_of(6) | site.names_of(-2),
        category_namespaces=module.CATEGORY_NAMESPACES | site.names_of(14),
    )
    return _Context(path, options, site, base_url, wikitext)


def page_url(base_url: str, title: str) -> str:
    return base_url + quote(title.replace(" ", "_"), safe=_URL_SAFE)


def _document(piece: str, ctx: _Context, tally: Tally) -> Document | None:
    """The document of one ``<page>`` piece, or ``None`` after counting why it was skipped."""
    path, options = ctx.path, ctx.options
    if BAD_BYTES_MARK in piece:
        tally.skip("invalid_utf8", path, _record_of(piece), "bytes that are not UTF-8 inside the page")
        return None
    import xml.etree.ElementTree as ET  # a dictionary look-up once imported (see parse_header)

    try:
        page = ET.fromstring(piece)
    except ET.ParseError as exc:
        tally.skip("malformed_page", path, _record_of(piece), f"XML error: {exc}")
        return None
    title = (page.findtext("title") or "").strip()
    page_id = (page.findtext("id") or "").strip()
    if not title or not page_id:
        tally.skip("malformed_page", path, page_id or title or None, "page without title or id")
        return None
    ns_text = (page.findtext("ns") or "").strip()
    try:
        ns = int(ns_text) if ns_text else ctx.site.namespace_of(title)
    except ValueError:
        tally.skip("malformed_page", path, page_id, f"namespace {ns_text!r} is not a number")
        return None
    if ns not in options.namespaces:
        tally.skip("namespace", path, page_id, f"namespace {ns}: {title}")
        return None
    revisions = page.findall("revision")
    if not revisions:
        tally.skip("malformed_page", path, page_id, "page without a revision")
        return None
    revision = revisions[-1]  # history dumps list oldest first
    wikitext = revision.findtext("text") or ""
    if page.find("redirect") is not None or _REDIRECT.match(wikitext):
        tally.skip("redirect", path, page_id, title)
        return None
    model = revision.findtext("model")
    if model and model != "wikitext":
        tally.skip("content_model", path, page_id, f"{title}: {model}")
        return None
    if not wikitext.strip():
        deleted = (revision.find("text") is not None and revision.find("text").get("deleted") is not None)
        tally.skip("empty_text", path, page_id, f"{title}: " + ("text deleted (revision suppressed)" if deleted
                                                                else "no wikitext"))
        return None
    if options.skip_disambiguation and _DISAMBIG.search(wikitext):
        tally.skip("disambiguation", path, page_id, title)
        return None
    tally.add("chars_held", len(wikitext))  # what extraction had to work with (pipeline.file_accounting)
    try:
        text = _wikitext().to_prose(wikitext, ctx.wikitext)
    except Exception as exc:  # an extractor bug on one odd page must not lose the dump
        tally.skip("extract_error", path, page_id, f"{title}: {type(exc).__name__}: {exc}")
        return None
    if not _WORD.search(text):
        # the page was only markup (<templatestyles/>, <br clear=all>, a table, templates): not an article
        tally.skip("markup_only", path, page_id, f"{title}: no words left after markup removal: {wikitext[:120]!r}")
        return None
    if len(text) < options.min_chars:
        tally.skip("too_short", path, page_id, f"{title}: {len(text)} chars")
        return None
    tally.add("wikitext_chars", len(wikitext))
    # key: the wiki's dbname and the page id: stable across dump dates, distinct across wikis
    # (page ids of enwiki and dewiki overlap); every split reads the dump's header, so all agree.
    return Document(
        key=f"{ctx.site.dbname}:{page_id}" if ctx.site.dbname else page_id,
        text=text,
        url=page_url(ctx.base_url, title),
        title=title,
        meta={
            "origin": path,
            "record": page_id,
            "date": revision.findtext("timestamp"),
            "content_type": revision.findtext("format") or "text/x-wiki",
            "charset": "utf-8",
            "language": wiki_language(ctx.site.lang),  # the dump's own language (siteinfo xml:lang)
        },
    )


# ---------------------------------------------------------------- plan and read


def _is_bz2(path: str) -> bool:
    return compression_of(path) == "bz2"


def plan(path: str, size: int | None, options: Options | None) -> list[Split]:
    """bz2 dumps in byte ranges of ``split_bytes`` (see the module docstring); anything else whole."""
    options = options or Options()
    if options.split_bytes and _is_bz2(path) and size:
        return byte_ranges(path, size, options.split_bytes)
    return whole_file(path, size, options)


def _read_site(path: str) -> SiteInfo:
    """The header of a dump read from its start, for a split that begins later in the file."""
    scan = _Scan()
    pieces = _cut_pages(_text_chunks(_file_chunks(path)), path, Tally(), scan, HEADER_MAX_CHARS)
    next(pieces, None)  # stops at the first page: the header is parsed by then
    pieces.close()
    return scan.site or SiteInfo()


def _file_encoding(path: str) -> str:
    """The codec of the whole dump, from its first decompressed bytes (for a split that starts later)."""
    with _open(path) as stream:
        return sniff_encoding(stream.read(256))


def read(split: Split, options: Options | None, tally: Tally) -> Iterator[Document]:
    """Documents of one split of a dump; damage is counted in ``tally``, never raised."""
    options = options or Options()
    path = split.path
    ranged = split.start > 0 or split.end is not None
    chunks = _bz2_range_chunks(path, split.start, split.end, tally) if ranged else _file_chunks(path)
    scan = _Scan()
    site = _read_site(path) if split.start > 0 else None
    encoding = _file_encoding(path) if split.start > 0 else None
    ctx: _Context | None = None
    for piece in _cut_pages(_text_chunks(chunks, encoding), path, tally, scan, options.max_page_bytes):
        if ctx is None:
            ctx = _context(path, options, site or scan.site or SiteInfo())
        document = _document(piece, ctx, tally)
        if document is not None:
            yield document
    if split.start == 0 and not scan.bytes_seen and (not scan.damage or file_size(path) == 0):
        tally.skip("empty_file", path, None, "no bytes after decompression")  # a 0-byte .bz2 ends "early"
    elif scan.damage:
        tally.skip("corrupt_compression", path, None, scan.damage)
    if split.start == 0 and scan.bytes_seen:
        if scan.site is None and not scan.pages:
            tally.skip("not_mediawiki_xml", path, None, "no <mediawiki> root element and no <page>")
        elif not ranged and not scan.closed and not scan.damage and not scan.truncated_page:
            tally.skip("truncated_dump", path, None, "input ends without </mediawiki>")


READER = Reader("wikipedia", plan, read)

# Default filters: length, language, Gopher quality without its alphabetic-words rule, PII. With the web
# chain 12 of 103 real articles are removed (Aldous Huxley, Alain Connes, Ampere ...), all by Gopher's
# "80 % of words contain a letter": dates, years in filmographies, table cells and the punctuation of
# citations are words without letters. C4's curly-bracket rule (formulas) and FineWeb's line-punctuation
# ratio (lists, table rows) also misfire; Gopher repetition removed none and is left out as it guards
# against generated spam, which an edited encyclopedia does not have. (tests/pipeline/filters/test_chain.py
# shows each misfire on the real corpora in shared/data.) A dump keeps its own language
# (``source_language``: the dump's xml:lang, issue 13). Ids are "<dbname>:<page id>".
KIND = SourceKind("wikipedia", Options, READER, identity="record", default_filters={
    "length": {}, "language": {"source_language": True}, "gopher_quality": {"min_alpha_words": None}, "pii": {}})
