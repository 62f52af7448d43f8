"""Plain-text books, one file per document (Project Gutenberg or any ``.txt``).

The document key is the file's base name, so a book keeps its id wherever the corpus is mounted (two books
with the same base name in one source would collide: give them distinct names). The full path goes to
``meta.origin``. Boilerplate removal and unwrapping live in ``pipeline.extract.gutenberg``; Aozora Bunko's
Japanese texts (ruby, editorial notes, colophon) in ``pipeline.extract.aozora``. ``meta.language`` is the
book's declared language: Gutenberg's ``Language:`` header, Japanese for Aozora, else the ``language``
option.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zlib
from typing import Iterator

from pydantic import BaseModel, ConfigDict, Field

from contracts.accounting import Tally
from contracts.fsio import basename, compression_of, is_damaged_archive, open_input, open_raw
from pipeline.documents import Document
from pipeline.extract.charsets import Decoded
from pipeline.filters.lang_params import book_language
from pipeline.readers.base import Reader, Split, whole_file
from pipeline.readers.source_kind import SourceKind

FALLBACK_CHARSETS = ("cp1252", "latin-1")  # latin-1 never fails, so decoding always ends somewhere


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strip_gutenberg: bool = True  # drop PG header/footer/licence and read Title/Author from the header
    aozora: bool = True  # Aozora Bunko texts: ruby, notes and colophon out, title/author from the head
    unwrap: bool = True  # join hard-wrapped lines into paragraphs (see gutenberg.unwrap_paragraphs)
    max_document_bytes: int = Field(64 << 20, ge=1024)  # a larger (decompressed) file is skipped as too_large
    language: str | None = Field(None, description=(
        "language of books whose header names none (lid.176 code, e.g. zh); a Gutenberg 'Language:' line wins"))


_DECLARED = re.compile(rb"Character set encoding:[ \t]*([A-Za-z0-9][A-Za-z0-9_.:()/ -]*?)[ \t]*\r?$", re.M)


def decode(data: bytes) -> Decoded:
    """The text of a book file, and the charset it was read in. Why this order:

    1. What the bytes themselves say: ISO-2022-JP's or ISO-2022-KR's escape sequences (7-bit, so valid UTF-8
       too), a UTF-16/32 byte-order mark, UTF-16/32 without one told by its NUL bytes (valid UTF-8 too:
       ``charsets.unmarked_utf16_32``), UTF-8 (BOM tolerated).
    2. Nearly UTF-8: a UTF-8 file with a few damaged bytes (at most one in a thousand) and more valid
       multi-byte characters than damaged bytes is UTF-8 with those bytes replaced and counted; a text in a
       single-byte charset almost never forms valid UTF-8 sequences, so this never takes one of those.
    3. The charset a Project Gutenberg header declares ("Character set encoding: GB2312", old e-texts).
    4. Shift_JIS (cp932) for an Aozora Bunko file.
    5. uchardet's guess (resiliparse's ``detect_encoding``): GBK/GB18030, Big5, Shift_JIS, EUC-JP, KOI8-R,
       windows-1251 ... each with its vendor supersets (``pipeline.extract.charsets``); then that guess with
       its few undecodable bytes replaced and counted.
    6. windows-1252, then latin-1, which decodes anything.
    A Western guess (5. or 6.) is read as ISO-8859-15 where the bytes say so (``charsets.latin9``: the euro
    sign at 0xA4).
    Before the guess (5.) a Chinese, Japanese or Russian book in a legacy charset fell to 6: mojibake that
    the language filter then removed."""
    from pipeline.extract.charsets import (MAX_REPLACED_SHARE, decode_replacing, decode_strict, decoders,
                                           iso2022_jp, iso2022_kr, latin9, nearly_utf8, unmarked_utf16_32,
                                           utf16_32, widest)

    if jis := iso2022_jp(data):
        return Decoded(jis[0], "iso2022_jp", jis[1])
    if (korean := iso2022_kr(data)) is not None:
        return Decoded(korean, "iso2022_kr")
    if marked := utf16_32(data):  # a UTF-16/32 byte-order mark is never valid UTF-8
        return marked
    if unmarked := unmarked_utf16_32(data):  # before UTF-8, which NULs pass
        return unmarked
    try:
        return Decoded(data.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        pass
    data = data.removeprefix(codecs.BOM_UTF8)  # a BOM on a file that is not UTF-8 after all
    if damaged := nearly_utf8(data):
        return Decoded(damaged[0], "utf-8", damaged[1])
    declared = _DECLARED.search(data[:16384])
    if declared and (found := decode_strict(data, decoders(declared.group(1).decode("ascii")))):
        return Decoded(*found)
    from pipeline.extract.aozora import is_aozora  # here and in read: see read

    try:  # only where the result is Aozora's format: cp932 also "decodes" much cp1252 text, wrongly
        text = data.decode("cp932")
        if is_aozora(text):
            return Decoded(text, "shift_jis")
    except UnicodeDecodeError:
        pass
    from resiliparse.parse.encoding import detect_encoding

    guess = detect_encoding(data, html5_compatible=False)
    if found := decode_strict(data, decoders(guess)):
        if (codec := latin9(data, found[1])) != found[1]:
            return Decoded(data.decode(codec), codec)
        return Decoded(*found)
    if (codec := widest(guess)) and codec not in FALLBACK_CHARSETS:  # those come last anyway
        text, replaced = decode_replacing(data, codec)
        if replaced <= len(data) * MAX_REPLACED_SHARE:
            return Decoded(text, codec, replaced)
    found = decode_strict(data, list(FALLBACK_CHARSETS))
    assert found is not None, "latin-1 decodes every byte string"
    if (codec := latin9(data, found[1])) != found[1]:
        return Decoded(data.decode(codec), codec)
    return Decoded(*found)


def title_from_name(name: str) -> str:
    """``the-verdict.txt`` -> ``the verdict``: the best title a file without a header offers."""
    stem = name
    if compression_of(stem):
        stem = posixpath.splitext(stem)[0]
    stem = posixpath.splitext(stem)[0]
    return re.sub(r"[-_]+", " ", stem).strip() or name


def read(split: Split, options: Options, tally: Tally) -> Iterator[Document]:
    path = split.path
    if basename(path).lower().endswith(".zip"):
        yield from _read_zip(path, options, tally)
        return
    try:
        with open_input(path) as fh:
            data = fh.read(options.max_document_bytes + 1)  # never more: a .gz bomb costs this much at most
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"book file {path!r} not found") from exc
    except Exception as exc:  # noqa: BLE001 - only damaged archives are swallowed, the rest re-raised
        if not is_damaged_archive(exc):
            raise
        tally.skip("corrupt_file", path, detail=f"{type(exc).__name__}: {exc}")
        return
    yield from _book(path, basename(path), basename(path), data, options, tally)


def _read_zip(path: str, options: Options, tally: Tally) -> Iterator[Document]:
    """The text files of a zip archive, each a book (Aozora Bunko hands out every text as a zip of one
    Shift_JIS ``.txt``, sometimes with its illustrations). A member's key is ``archive.zip/member.txt``;
    members that are not ``.txt`` are counted (``books.zip_members_skipped``), never read."""
    import zipfile  # only a books source with zips needs it

    try:
        with open_raw(path) as raw, zipfile.ZipFile(raw) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            texts = sorted((m for m in members if m.filename.lower().endswith(".txt")), key=lambda m: m.filename)
            if len(members) > len(texts):
                tally.add("books.zip_members_skipped", len(members) - len(texts))
            if not texts:
                tally.skip("no_text_member", path, detail=f"{len(members)} members, none a .txt file")
                return
            for member in texts:
                where = f"{path}!{member.filename}"
                if member.file_size > options.max_document_bytes:  # from the archive's directory: nothing inflated
                    tally.skip("too_large", where, detail=f"over max_document_bytes={options.max_document_bytes:,} bytes")
                    continue
                with archive.open(member) as fh:
                    data = fh.read(options.max_document_bytes + 1)
                yield from _book(where, f"{basename(path)}/{member.filename}", posixpath.basename(member.filename),
                                 data, options, tally)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"book file {path!r} not found") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error) as exc:
        # a damaged or truncated archive, or a compression method Python cannot read
        tally.skip("corrupt_file", path, detail=f"{type(exc).__name__}: {exc}")


def _book(origin: str, key: str, name: str, data: bytes, options: Options, tally: Tally) -> Iterator[Document]:
    """One book from its file's bytes: decoded, boilerplate removed, unwrapped (``origin`` names it in the
    statistics, ``key`` is its document key, ``name`` its file name for a title of last resort)."""
    if len(data) > options.max_document_bytes:
        tally.skip("too_large", origin, detail=f"over max_document_bytes={options.max_document_bytes:,} bytes")
        return
    if not data.strip():
        tally.skip("empty_file", origin, detail=f"{len(data)} bytes")
        return
    # Imported here, not with the module: every run imports this module (the manifest validates this kind's
    # options), and only a books source needs the two formats' patterns (~5 ms to import)
    from pipeline.extract.aozora import is_aozora, split_aozora
    from pipeline.extract.gutenberg import names_gutenberg, normalize_newlines, split_gutenberg, unwrap_paragraphs

    text, charset, replaced = decode(data)
    if charset != "utf-8":
        tally.add("decoded_fallback")
    if replaced:
        tally.add("decode_replaced_bytes", replaced)
    text = normalize_newlines(text)
    tally.add("chars_held", len(text))  # the whole book, boilerplate included (pipeline.file_accounting)
    if options.aozora and is_aozora(text):
        book = split_aozora(text)
        tally.add("books.aozora_stripped")
    else:
        book = split_gutenberg(text) if options.strip_gutenberg else None
        if book and book.has_markers:
            tally.add("books.gutenberg_stripped")
        elif book and names_gutenberg(text):
            # Kept whole (nothing says where its book starts), but counted: a PG file in a marker variant
            # split_gutenberg does not know would otherwise pass its licence into the corpus unnoticed.
            tally.add("books.gutenberg_unmarked")
    body = book.body if book else text
    if options.unwrap:
        body = unwrap_paragraphs(body)
    body = body.strip("\n")
    if not body.strip():
        tally.skip("empty_text", origin, detail="nothing left after removing the Gutenberg boilerplate")
        return
    yield Document(
        key=key,
        text=body,
        title=(book.title if book else None) or title_from_name(name),
        meta={
            "origin": origin,
            "author": book.author if book else None,
            "date": book.date if book else None,
            "content_type": "text/plain",
            "charset": charset,
            "language": (book_language(book.language) if book else None) or options.language,
        },
    )


READER = Reader(kind="books", plan=whole_file, read=read)

# Default filters: length, language and PII only. The web chain removes 4 of 7 real books: a novel passes
# Gopher's 100,000-word maximum (Jack Sheppard), C4's curly-bracket rule fires on editorial notes, and a
# collected works (tinyshakespeare, 1.1 M characters) is beyond the analysis cap; verse and plays are
# short lines without terminal punctuation that FineWeb's rules are built to remove
# (tests/pipeline/filters/test_chain.py). A book keeps whatever language it is written in
# (``languages: null``, issue 13); the language score minimum still applies.
KIND = SourceKind("books", Options, READER, identity="file_name",
                  default_filters={"length": {}, "language": {"languages": None}, "pii": {}})
