"""MediaWiki wikitext -> plain prose, fast enough for whole dumps.

A full ``mwparserfromhell.parse`` of every page runs at about 1.2 M chars/s on the shared enwiki slice
(measured: 5.7 M chars in 4.6 s), which would make parsing the bottleneck of a dump run. Most of that
time goes into building nodes for markup we throw away anyway: references, citation templates, infoboxes
and tables. So the bulk removal is done with linear scans and regular expressions (about 11 M chars/s on
the same slice, one core), and mwparserfromhell is used only where a real parser is worth its cost:
splitting the arguments of the few templates whose visible text we keep (``{{lang|fr|[[texte|t]]}}``)
when they nest links or templates, which makes a naive split on ``|`` wrong; those strings are short.

Choices a user should know about:

* Templates vanish except a small allow-list that renders prose (``PROSE_TEMPLATES``).
* Tables (``{| ... |}``, also indented ``:{|``) are dropped whole: cell text linearised out of context
  reads as noise; so are the rows of a table that a template opens.
* Sections that are only lists of references or links (References, See also, External links, Further
  reading, Notes, Bibliography, ..., and their names on large non-English Wikipedias: Einzelnachweise,
  脚注, 参考文献, Примечания, ...) are dropped with their sub-sections; see ``DROP_SECTIONS``.
* File/image captions, galleries, categories and interlanguage links are dropped, under the dump's own
  namespace names and the common localised ones (``FILE_NAMESPACES``, ``CATEGORY_NAMESPACES``).
* ``<math>`` is dropped, and so is a line that only made sense around a formula ("= number of cases").
* Unit templates keep value and unit (``{{convert|-25|C|F}}`` -> ``-25 °C``), without the conversion.
* Language-converter markup (``-{zh-hans:A;zh-hant:B}-``) shows its first variant.
* Headings stay as lines of their own (optional); a heading whose section ends up empty is dropped.
* List items become plain lines; bold/italic quotes and HTML tags go, their text stays; a block-level tag
  (``<blockquote>``, ``<li>``, ``<div>``, ...) inside a line breaks it there, as a browser shows it.
* Template parameters outside a template (``{{{1|default}}}``, pasted template code) show their default.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Callable

DROP_SECTIONS = frozenset(
    {
        "references", "notes", "footnotes", "citations", "sources", "notes and references",
        "references and notes", "notes and sources", "see also", "external links", "further reading",
        "bibliography", "works cited", "general references", "cited sources", "explanatory notes",
        "external link", "reference", "note", "links",
        # the same sections under the names large Wikipedias give them
        "einzelnachweise", "weblinks", "literatur", "siehe auch", "anmerkungen", "quellen", "belege",  # de
        "fußnoten", "weiterführende literatur",
        "références", "notes et références", "liens externes", "voir aussi", "bibliographie",  # fr
        "articles connexes", "lien externe",
        "referencias", "enlaces externos", "véase también", "bibliografía", "notas", "notas y referencias",  # es
        "bibliografia", "voci correlate", "collegamenti esterni", "altri progetti", "fonti",  # it
        "referências", "ligações externas", "ver também", "notas e referências", "leitura adicional",  # pt
        "bronnen", "externe links", "zie ook", "referenties", "noten", "literatuur",  # nl
        "przypisy", "linki zewnętrzne", "zobacz też",  # pl
        "примечания", "литература", "ссылки", "см. также", "источники", "сноски",  # ru
        "脚注", "出典", "注釈", "参考文献", "外部リンク", "関連項目", "関連文献", "参考資料",  # ja
        "参见", "參見", "参看", "參看", "外部链接", "外部連結", "外部連接", "參考文獻", "参考资料",  # zh
        "延伸阅读", "延伸閱讀", "注释", "註釋", "注釋", "腳註", "来源", "來源", "参考书目", "參考書目",
        # more Wikipedias, found missing on the held-out bgwiki article (bench/wiki_heldout.py): only names
        # that cannot head a prose section ("Literatura" is a topic section on eswiki, so it is not here)
        "вижте също", "външни препратки", "бележки", "източници", "външни връзки",  # bg
        "див. також", "примітки", "джерела", "посилання",  # uk
        "související články", "externí odkazy", "poznámky", "odkazy",  # cs
        "pozri aj", "externé odkazy", "referencie",  # sk
        "se även", "referenser", "externa länkar", "källor", "noter",  # sv
        "se også", "referanser", "eksterne lenker", "eksterne henvisninger", "referencer", "kilder",  # no, da
        "katso myös", "lähteet", "aiheesta muualla", "viitteet",  # fi
        "jegyzetek", "források", "további információk", "kapcsolódó szócikkek",  # hu
        "ayrıca bakınız", "kaynakça", "dış bağlantılar", "notlar", "kaynaklar",  # tr
        "각주", "같이 보기", "외부 링크", "참고 문헌", "참고 자료",  # ko
        "مراجع", "المراجع", "وصلات خارجية", "انظر أيضا", "انظر أيضًا", "مصادر",  # ar
        "منابع", "جستارهای وابسته", "پیوند به بیرون", "پانویس",  # fa
        "ראו גם", "קישורים חיצוניים", "הערות שוליים", "לקריאה נוספת",  # he
        "lihat pula", "lihat juga", "pranala luar", "referensi", "catatan kaki",  # id
        "xem thêm", "liên kết ngoài", "tham khảo", "chú thích",  # vi
        "vegeu també", "enllaços externs", "referències",  # ca
        "vezi și", "legături externe", "referințe", "note",  # ro
        "δείτε επίσης", "εξωτερικοί σύνδεσμοι", "παραπομπές", "σημειώσεις",  # el
        "vidi još", "vanjske poveznice", "spoljašnje veze", "izvori", "види још", "спољашње везе", "извори",  # hr, sr
    }
)

# File and Category namespaces: MediaWiki's canonical English names ("Image" is the old name of "File"),
# plus the localised names and aliases of large Wikipedias (from MediaWiki's languages/messages files).
# A dump's siteinfo adds its own local names, but not the aliases its editors also type ("画像:" on jawiki,
# "分類:" on zhwiki, "Kategorija:" next to "Категорија:" on srwiki), hence this table.
FILE_NAMESPACES = frozenset({
    "file", "image", "media", "datei", "bild", "fichier", "archivo", "imagen", "immagine", "ficheiro",
    "arquivo", "imagem", "bestand", "afbeelding", "plik", "grafika", "файл", "изображение", "картинка",
    "ファイル", "画像", "文件", "档案", "檔案", "图像", "圖像", "파일", "그림", "fil", "bilde", "billede",
    "tiedosto", "kuva", "soubor", "obrázek", "súbor", "obrázok", "fájl", "kép", "dosya", "resim", "ملف",
    "صورة", "پرونده", "تصویر", "קובץ", "תמונה", "datoteka", "slika", "датотека", "слика", "tập tin", "hình",
    "berkas", "gambar", "fișier", "imagine", "fitxer", "imatge", "αρχείο", "εικόνα", "pilt", "vaizdas",
    "attēls", "dosiero", "bildo", "चित्र", "ไฟล์", "ภาพ",
})
CATEGORY_NAMESPACES = frozenset({
    "category", "kategorie", "kategorija", "kategoria", "kategori", "kategória", "kategorio", "kategooria",
    "catégorie", "categoría", "categoria", "categorie", "категория", "категорія", "категорија", "カテゴリ",
    "分类", "分類", "분류", "luokka", "تصنيف", "رده", "קטגוריה", "thể loại", "κατηγορία", "श्रेणी", "หมวดหมู่",
})
# Image options (MediaWiki's canonical ones and common localised ones): a namespaced link that carries one
# is an image whatever its namespace is called, so an alias missing above still does not leak its caption.
_IMAGE_OPTION = re.compile(
    r"^(?:thumb|thumbnail|frame|framed|frameless|border|upright(?:\s*=?\s*[\d.]*)?|left|right|center|centre|"
    r"none|baseline|middle|top|bottom|text-top|text-bottom|sub|super|\d*(?:x\d+)?\s*px|"
    r"(?:alt|link|page|class|lang)\s*=.*|mini|miniatur|hochkant(?:=[\d.]+)?|rechts|links|zentriert|vignette|"
    r"droite|gauche|miniatura|derecha|izquierda|destra|sinistra|miniaturadaimagem|direita|esquerda|мини|"
    r"миниатюра|справа|слева|サムネイル|右|左|中央|缩略图|縮圖|居中)$",
    re.I,
)

# Extension tags whose content is not running prose: removed with their content.
_DROP_TAGS = (
    "ref|references|math|chem|ce|score|gallery|timeline|imagemap|syntaxhighlight|source|templatedata|"
    "graph|mapframe|maplink|hiero|inputbox|categorytree|includeonly|indicator|charinsert|section|templatestyles"
)
# Formulas leave this mark where they stood, so a line that only made sense around one can go whole
# ("where:" / ":<math>n</math> = number of cases" must not become "= number of cases").
MATH_MARK = "\x1a"
_MATH = re.compile(r"<(math|chem|ce)\b[^>]*?(?:/>|>.*?(?:</\1\s*>|\Z))", re.S | re.I)
_MATH_FRAGMENT = re.compile(r"^\W*$|^[=≠<>≤≥≈≡∈∉∋⊂⊆⊃⊇∝→⇒⇔↔~∼≅≃≪≫]")
# Plain HTML / formatting tags: the tag goes, its content stays.
_KEEP_TAGS = (
    "span|div|sup|sub|small|big|center|font|u|s|del|ins|code|tt|abbr|blockquote|p|ol|ul|li|dl|dt|dd|"
    "table|tr|td|th|caption|cite|q|var|kbd|samp|b|i|em|strong|bdi|bdo|ruby|rt|rp|mark|time|data|strike|"
    "onlyinclude|noinclude|poem|pre|nowiki|translate|tvar|languages|hr|wbr"
)

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_NOWIKI = re.compile(r"<(nowiki|pre)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
_NOWIKI_EMPTY = re.compile(r"<nowiki\s*/>", re.I)
_DROP_TAG_RE = re.compile(
    rf"<(?:{_DROP_TAGS})\b[^>]*/>|<({_DROP_TAGS})\b[^>]*>.*?(?:</\1\s*>|\Z)", re.S | re.I
)
_BR = re.compile(r"<br\b[^>]*>|</br\s*>", re.I)
_TAG = re.compile(rf"</?(?:{_KEEP_TAGS}|{_DROP_TAGS})\b[^>]*>", re.I)
# Block-level tags (a run of them on one line) break the line where they stand inside it, as a browser shows
# them: removed without a break, "<li>One</li><li>Two</li>" read "OneTwo", and "South Wales:<blockquote>This"
# one glued word. At a line's start or end they just go (no blank line, no paragraph break added).
_BLOCK_TAGS = "p|div|center|blockquote|ol|ul|li|dl|dt|dd|table|tr|td|th|caption|hr"
# (spelled with the first tag outside the repetition: a pattern that starts with a literal "<" is searched
# for that character first, about 10x faster than the same run written as one repeated group)
_BLOCK_RUN = re.compile(rf"</?(?:{_BLOCK_TAGS})\b[^>]*>(?:[ \t]*</?(?:{_BLOCK_TAGS})\b[^>]*>)*[ \t]*", re.I)


def _block_break(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    inside = start > 0 and text[start - 1] != "\n" and end < len(text) and text[end] != "\n"
    return "\n" if inside else ""

_HEADING = re.compile(r"^(={1,6})\s*(.+?)\s*\1[ \t]*$", re.M)
# A table opens at a line start, also after ":" indentation (":{|"), as MediaWiki's doTableStuff reads it.
_BRACE_TOKEN = re.compile(r"\{\{|\}\}|^[ \t]*:*[ \t]*\{\||^[ \t]*\|\}", re.M)
_LINK = re.compile(r"\[\[((?:[^\[\]]|\[(?!\[)|\](?!\]))*)\]\]")
_EXT_LINK = re.compile(r"\[(?:https?:|ftp:|//|mailto:|irc:|news:)[^\s\[\]]*(?:[ \t]+([^\]\n]*))?\]", re.I)
_QUOTES = re.compile(r"'{2,}")
_MAGIC = re.compile(r"__[A-Z]+__")
_LIST = re.compile(r"^[*#:;]+\s*")
# Table lines left where no "{|" pairs them: a table a template opens ({{Election table}}, {{Fb cl header}})
# has raw rows after it. Any line that begins with "|" is one (MediaWiki prose cannot: the rendered "|" of
# {{!}} at a line start is table syntax too); "!" only with a space or "!!", since "!Kung" begins prose.
_TABLE_LINE = re.compile(r"^\s*(?::*\s*\{\||\||!\s|!.*!!)")
_INTERLANG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+)*$|^simple$")
_LANG_CONVERTER = re.compile(r"-\{(.*?)\}-", re.S)
_CONVERTER_FLAGS = re.compile(r"^\s*([A-Za-z;+\-]+)\s*\|")
_CONVERTER_VARIANT = re.compile(r"^\s*[a-z]{2,3}(?:-[a-z]+)*\s*:")
_PUNCT_ONLY = re.compile(r"^[\s。．.,，、;；:：·・]+$")
_SPACES = re.compile(r"[ \t\u00a0\u2009\u200a\u202f\u3000]+")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?)\]])(?=\s|$)")
_EMPTY_PARENS = re.compile(r"\(\s*[,;:]*\s*\)|\[\s*\]")
_PAREN_PUNCT = re.compile(r"\(\s*[,;]\s*")
_NOWIKI_ESCAPE = str.maketrans({c: f"&#{ord(c)};" for c in "<>[]{}|'=*#:;_~-&"})


@dataclass(frozen=True)
class WikitextOptions:
    """What to keep; the namespace names come from the dump's siteinfo so other languages work too."""

    keep_headings: bool = True
    drop_sections: frozenset[str] = DROP_SECTIONS
    file_namespaces: frozenset[str] = FILE_NAMESPACES
    category_namespaces: frozenset[str] = CATEGORY_NAMESPACES


DEFAULT_OPTIONS = WikitextOptions()


# ---------------------------------------------------------------- templates that carry visible text


def _args(inner: str) -> tuple[list[str], dict[str, str]]:
    """Positional and named arguments of one template, split by mwparserfromhell.

    The parser knows that ``|`` inside ``[[a|b]]`` or a nested ``{{...}}`` does not separate arguments;
    it runs only on the short allow-listed templates that nest, so its cost does not matter. Flat ones
    (most ``{{convert|5|km}}``) are split directly, which is exact when nothing nests.
    """
    if "[[" not in inner and "{{" not in inner and "<" not in inner:
        positional, named = [], {}
        for part in inner.split("|")[1:]:
            key, eq, value = part.partition("=")
            if eq and key.strip() and "\n" not in key:
                named[key.strip().lower()] = value.strip()
            else:
                positional.append(part.strip())
        return positional, named
    import mwparserfromhell  # here: ~9 ms to import, and only nested templates need it (every run's manifest
    # imports this module through the wikipedia reader's options)

    code = mwparserfromhell.parse("{{" + inner + "}}", skip_style_tags=True)
    templates = code.filter_templates(recursive=False)
    if not templates:
        return [], {}
    positional: list[str] = []
    named: dict[str, str] = {}
    for param in templates[0].params:
        value = str(param.value).strip()
        if param.showkey:
            named[str(param.name).strip().lower()] = value
        else:
            positional.append(value)
    return positional, named


def _first(pos: list[str], named: dict[str, str]) -> str:
    return pos[0] if pos else named.get("1", named.get("text", ""))


def _last(pos: list[str], named: dict[str, str]) -> str:
    return pos[-1] if pos else ""


# {{convert}} range separators and how they read ("-" is an en dash without spaces: "1–2 km").
_RANGE_WORDS = {"to": " to ", "-": "–", "–": "–", "and": " and ", "or": " or ", "x": " × ", "by": " by ",
                "+/-": " ± ", "±": " ± ", "&": " & ", "and(-)": " and ", "to(-)": " to ", "xx": " × ",
                "to about": " to about ", "+": " + ", ",": ", ", "then": " then "}
# Unit codes whose printed symbol differs from the code; every other code prints as it is ("km", "kg").
_UNIT_SYMBOLS = {
    "c": "°C", "f": "°F", "k": "K", "°c": "°C", "°f": "°F", "degc": "°C", "degf": "°F",
    "km2": "km²", "m2": "m²", "cm2": "cm²", "mm2": "mm²", "ha": "ha", "sqmi": "sq mi", "mi2": "sq mi",
    "sqft": "sq ft", "ft2": "sq ft", "sqin": "sq in", "in2": "sq in", "sqyd": "sq yd", "yd2": "sq yd",
    "km3": "km³", "m3": "m³", "cm3": "cm³", "cuft": "cu ft", "ft3": "cu ft", "cuyd": "cu yd", "cuin": "cu in",
    "kph": "km/h", "kmh": "km/h", "km/h": "km/h", "mph": "mph", "kn": "kn", "kt": "kn", "m/s": "m/s",
    "ft/s": "ft/s", "acre": "acres", "acres": "acres", "usgal": "US gal", "impgal": "imp gal", "l": "L",
    "lb": "lb", "st": "st", "shortton": "short tons", "longton": "long tons", "lt": "long tons",
    "tonne": "t", "t": "t", "nmi": "nmi", "ly": "ly", "au": "AU", "pc": "pc", "e6km": "million km",
    "e6mi": "million mi", "e3km": "thousand km", "e6acre": "million acres", "kw": "kW", "hp": "hp",
    "mw": "MW", "psi": "psi", "kpa": "kPa", "mbar": "mbar", "inhg": "inHg", "mmhg": "mmHg",
}
_NUMBER = re.compile(r"^[-+−±]?[\d.,]*\d(?:[\d.,]*)(?:e-?\d+)?(?:\+?\d+/\d+)?$|^\d+/\d+$", re.I)


def _unit(code: str) -> str:
    return _UNIT_SYMBOLS.get(code.strip().lower(), code.strip())


def _convert(pos: list[str], named: dict[str, str]) -> str:
    """The value and unit as written, without the conversion: ``{{convert|-25|C|F}}`` -> ``-25 °C``.

    Ranges keep their separator (``{{convert|5|to|10|km}}`` -> ``5 to 10 km``, ``|1|-|2|km2`` ->
    ``1–2 km²``), and mixed units keep every pair (``{{convert|3|ft|6|in|m}}`` -> ``3 ft 6 in``).
    """
    if not pos or not _NUMBER.match(pos[0].strip()):
        return pos[0] if pos else ""
    out = [pos[0].strip()]
    i = 1
    while i + 1 < len(pos) and pos[i].strip().lower() in _RANGE_WORDS and _NUMBER.match(pos[i + 1].strip()):
        out += [_RANGE_WORDS[pos[i].strip().lower()], pos[i + 1].strip()]
        i += 2
    text = "".join(out)
    while i < len(pos) and pos[i].strip() and not _NUMBER.match(pos[i].strip()):
        text += " " + _unit(pos[i])
        # a second value and unit of the same quantity: 3 ft 6 in, 10 st 4 lb
        if i + 2 < len(pos) and _NUMBER.match(pos[i + 1].strip()) and pos[i + 2].strip() and \
                not _NUMBER.match(pos[i + 2].strip()) and pos[i + 2].strip().lower() in {"in", "lb", "oz", "ft", "yd"}:
            text += " " + pos[i + 1].strip()
            i += 2
            continue
        break
    return text


def _height(pos: list[str], named: dict[str, str]) -> str:
    """``{{height|m=1.8}}`` -> ``1.8 m``; ``{{height|ft=6|in=2}}`` -> ``6 ft 2 in``."""
    return " ".join(f"{named[unit]} {unit}" for unit in ("m", "cm", "ft", "in") if named.get(unit))


def _frac(pos: list[str], named: dict[str, str]) -> str:
    if len(pos) >= 3:
        return f"{pos[0]} {pos[1]}/{pos[2]}"
    if len(pos) == 2:
        return f"{pos[0]}/{pos[1]}"
    return f"1/{pos[0]}" if pos else ""


def _val(pos: list[str], named: dict[str, str]) -> str:
    unit = named.get("u") or named.get("ul") or ""
    return " ".join(p for p in (_first(pos, named), unit) if p)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _date(pos: list[str], named: dict[str, str]) -> str:
    """``{{birth date|1809|2|12}}`` -> ``12 February 1809`` (fewer parts -> fewer words)."""
    parts = [p for p in pos if p.strip().isdigit()][:3]
    if len(parts) >= 2 and 1 <= int(parts[1]) <= 12:
        month = _MONTHS[int(parts[1]) - 1]
        return f"{int(parts[2])} {month} {parts[0]}" if len(parts) == 3 else f"{month} {parts[0]}"
    return parts[0] if parts else ""


def _join(sep: str) -> Callable[[list[str], dict[str, str]], str]:
    return lambda pos, named: sep.join(p for p in pos if p)


def _const(text: str) -> Callable[[list[str], dict[str, str]], str]:
    return lambda pos, named: text


def _prefixed(prefix: str) -> Callable[[list[str], dict[str, str]], str]:
    return lambda pos, named: prefix + _first(pos, named)


PROSE_TEMPLATES: dict[str, Callable[[list[str], dict[str, str]], str]] = {
    "convert": _convert, "cvt": _convert, "convert/flip": _convert, "height": _height,
    "math": _first, "mvar": _first,
    "lang": lambda pos, named: pos[1] if len(pos) > 1 else _first(pos, named),
    "transl": _last, "transliteration": _last, "script": _last,
    "nowrap": _first, "nobr": _first, "small": _first, "smaller": _first, "big": _first, "larger": _first,
    "em": _first, "strong": _first, "abbr": _first, "vanchor": _first, "visible anchor": _first,
    "sc": _first, "smallcaps": _first, "serif": _first, "sans-serif": _first, "ill": _first,
    "interlanguage link": _first, "keypress": _join(" "), "angbr": lambda p, n: f"⟨{_first(p, n)}⟩",
    "formatnum": _first, "nts": _first, "ntsh": _first, "sort": _last, "dts": _date, "date": _first,
    "quote": lambda pos, named: named.get("text") or _first(pos, named),
    "blockquote": lambda pos, named: named.get("text") or _first(pos, named),
    "cquote": _first, "quotation": _first, "poem quote": lambda pos, named: named.get("text") or _first(pos, named),
    "frac": _frac, "sfrac": _frac, "val": _val,
    "birth date": _date, "death date": _date, "start date": _date, "end date": _date,
    "birth date and age": _date, "death date and age": _date, "birth year and age": _first,
    "circa": _prefixed("c. "), "c.": _prefixed("c. "), "as of": _prefixed("As of "),
    "sortname": _join(" "), "nihongo": _first, "linktext": _join(""), "lang-x": _last,
    "'": _const("'"), "'s": _const("'s"), "''": _const('"'), "snd": _const(" – "), "spaced ndash": _const(" – "),
    "ndash": _const("–"), "mdash": _const("—"), "mdashb": _const("—"), "ndashb": _const("–"),
    "spnd": _const(" – "), "nbsp": _const(" "), "·": _const(" · "), "dot": _const(" · "),
    "=": _const("="), "!": _const("|"), "okina": _const("ʻ"), "sp": _const(" "), "spaces": _const(" "),
    "en dash": _const("–"), "em dash": _const("—"), "pipe": _const("|"), "^": _first,
    "us$": _prefixed("US$"), "usd": _prefixed("US$"), "£": _prefixed("£"), "€": _prefixed("€"),
    "gbp": _prefixed("£"), "eur": _prefixed("€"), "inr": _prefixed("₹"), "jpy": _prefixed("¥"),
    "respell": _join("-"), "chem": _join(""), "chem2": _first, "ipa": _first, "r": _const(""),
    "hlist": _join(" · "), "flatlist": _first, "plainlist": _first, "unbulleted list": _join("\n"),
    "bulleted list": _join("\n"), "ordered list": _join("\n"), "lit": lambda p, n: f"lit. '{_first(p, n)}'",
    "literally": lambda p, n: f"lit. '{_first(p, n)}'", "gloss": lambda p, n: f"'{_first(p, n)}'",
    # links to an article that exists only in another language, and script helpers, on large Wikipedias:
    # they show words of the sentence, so removing them would cut it
    "仮リンク": lambda p, n: n.get("label") or _first(p, n), "ruby": _first, "語中改行": _join(""),
    "le": lambda p, n: p[2] if len(p) > 2 else _first(p, n),
    "tsl": lambda p, n: p[3] if len(p) > 3 else (p[2] if len(p) > 2 else _last(p, n)),
    "langi": lambda p, n: p[1] if len(p) > 1 else _first(p, n), "число": _join(" "),
}


def _template_name(inner: str) -> str:
    name = inner.split("|", 1)[0]
    name = name.replace("_", " ").strip().lower()
    if name.startswith("template:"):
        name = name[9:].strip()
    return " ".join(name.split())


def _render_template(inner: str) -> str:
    """Visible text of one template (its inner wikitext, no braces); ``""`` for all but the allow-list."""
    name = _template_name(inner)
    render = PROSE_TEMPLATES.get(name)
    if render is None and (name.startswith("convert/") or name.startswith("cvt/")):
        render = _convert
    if render is None and name.startswith("lang-"):
        render = _last
    if render is None and re.match(r"link-[a-z]{2,3}$", name):  # zh: {{link-en|中文名|English|shown}}
        render = PROSE_TEMPLATES["le"]
    if render is None:
        return ""
    positional, named = _args(inner)
    try:
        return _strip_braces(render(positional, named))
    except (ValueError, IndexError):  # odd arguments: the template just vanishes
        return ""


# ---------------------------------------------------------------- templates and tables


def _strip_braces(text: str) -> str:
    """Replace every outermost ``{{...}}`` by its rendering and drop every ``{| ... |}`` table.

    Two linear passes, so vandalised pages full of unbalanced braces cost no more than clean ones:
    first a stack pairs each closer with the nearest open token of its kind (openers left open inside
    the pair are forgotten), then the outermost pairs are replaced in order. An opener that is never
    closed stays as text (cleanup removes the braces), except a table, which MediaWiki closes at the
    end of the page: it is dropped to the end. A closer that closes nothing is left to cleanup.
    """
    if "{" not in text:
        return text
    pairs: list[tuple[int, int, str, int, int]] = []  # start, end, kind, content start, content end
    stack: list[tuple[str, int, int]] = []  # kind, token start, content start
    for match in _BRACE_TOKEN.finditer(text):
        token = match.group().strip(" \t:")  # ":{|" is an indented table opener
        if token == "{{" or token == "{|":
            stack.append(("t" if token == "{{" else "table", match.start(), match.end()))
            continue
        want = "t" if token == "}}" else "table"
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][0] == want:
                kind, start, content = stack[depth]
                del stack[depth:]
                pairs.append((start, match.end(), kind, content, match.start()))
                break
    open_table = min((start for kind, start, _ in stack if kind == "table"), default=len(text))
    pairs.sort()
    out: list[str] = []
    last = 0
    for start, end, kind, content, content_end in pairs:
        if start < last:
            continue  # inside an outer pair already replaced
        if start >= open_table:
            break
        out.append(text[last:start])
        if kind == "t":
            out.append(_render_template(text[content:content_end]))
        last = end
    out.append(text[last:open_table] if open_table >= last else "")
    return "".join(out)


_PARAM = re.compile(r"\{\{\{([^{}|]*)(?:\|([^{}]*))?\}\}\}")


def _params(text: str) -> str:
    """Template parameters outside a template (pasted template code): ``{{{1|default}}}`` shows its default, as
    MediaWiki renders it on a page, and ``{{{1}}}`` nothing; the brace pass read "{{{" as a template and left a
    stray "}" in the text. Innermost first, so a default that is itself a parameter resolves."""
    for _ in range(4):
        text, n = _PARAM.subn(lambda m: m.group(2) or "", text)
        if not n or "{{{" not in text:
            break
    return text


# ---------------------------------------------------------------- links


def _namespace(prefix: str) -> str:
    """``Thể_loại `` -> ``thể loại``: how MediaWiki compares a namespace prefix."""
    return " ".join(prefix.replace("_", " ").split()).lower()


def _link_replacer(options: WikitextOptions) -> Callable[[re.Match[str]], str]:
    hidden = options.file_namespaces | options.category_namespaces

    def replace(match: re.Match[str]) -> str:
        target, bar, label = match.group(1).partition("|")
        target = target.strip()
        visible_prefix = target.startswith(":")
        if visible_prefix:
            target = target[1:].lstrip()
        prefix = _namespace(target.split(":", 1)[0]) if ":" in target else ""
        if prefix and not visible_prefix:
            if prefix in hidden:
                return ""
            if bar and any(_IMAGE_OPTION.match(part.strip()) for part in label.split("|")[:-1]):
                return ""  # an image under a namespace alias we do not know: its options give it away
            if not bar and _INTERLANG.match(prefix):
                return ""
        if bar:
            label = label.strip()
            if label:
                return label
            # the pipe trick: [[Paris (France)|]] shows "Paris"
            target = re.sub(r"\s*\([^)]*\)\s*$", "", target.split(":", 1)[-1])
        if visible_prefix and prefix in hidden:
            return target.split(":", 1)[1].strip()  # [[:Category:Philosophers]] reads as "Philosophers"
        return target.lstrip("#").replace("#", " ") if target.startswith("#") else target

    return replace


def _strip_links(text: str, options: WikitextOptions) -> str:
    """Innermost links first, so a file caption's own links are resolved before the file link goes."""
    replace = _link_replacer(options)
    for _ in range(8):
        text, n = _LINK.subn(replace, text)
        if not n or "[[" not in text:
            break
    return text


# ---------------------------------------------------------------- sections and lines


def _drop_sections(text: str, options: WikitextOptions) -> str:
    """Remove sections (heading to the next heading of the same or higher level) named in the options."""
    if not options.drop_sections:
        return text
    out: list[str] = []
    last = 0
    dropping_level = 0
    for match in _HEADING.finditer(text):
        level = len(match.group(1))
        if dropping_level and level > dropping_level:
            continue
        if not dropping_level:
            out.append(text[last:match.start()])
        dropping_level = 0
        title = _SPACES.sub(" ", _QUOTES.sub("", match.group(2))).strip().lower().rstrip(":")
        if title in options.drop_sections:
            dropping_level = level
        last = match.start()
    if not dropping_level:
        out.append(text[last:])
    return "".join(out)


def _lines(text: str, options: WikitextOptions) -> list[str]:
    """Headings, list items and paragraphs as clean lines; table leftovers and rules dropped."""
    lines: list[tuple[int, str]] = []  # (heading level or 0, text)
    blank = True
    for raw in text.split("\n"):
        heading = _HEADING.match(raw)
        if heading:
            if options.keep_headings:
                title = _SPACES.sub(" ", heading.group(2).replace(MATH_MARK, " ").strip(" =")).strip()
                if title:
                    lines.append((len(heading.group(1)), title))
            blank = False
            continue
        if _TABLE_LINE.match(raw) or raw.startswith("----"):
            continue
        line = _SPACES.sub(" ", _LIST.sub("", raw)).strip()
        if MATH_MARK in line:
            line = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", line.replace(MATH_MARK, " "))).strip()
            if _MATH_FRAGMENT.match(line):
                continue  # what is left of a formula line: "= index of ...", ",", "."
        if line.startswith("=") or _PUNCT_ONLY.match(line):
            continue  # never prose: what is left where a formula, template or reference was removed
        if not line:
            if not blank:
                lines.append((0, ""))
            blank = True
            continue
        lines.append((0, line))
        blank = False
    return _drop_empty_headings(lines)


def _drop_empty_headings(lines: list[tuple[int, str]]) -> list[str]:
    out: list[str] = []
    for i, (level, line) in enumerate(lines):
        if level:
            for next_level, next_line in lines[i + 1:]:
                if next_level and next_level <= level:
                    break
                if not next_level and next_line:
                    if out and out[-1]:
                        out.append("")
                    out.append(line)
                    break
            continue
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


# ---------------------------------------------------------------- language variants (zh, sr, ...)


def _converted(match: re.Match[str]) -> str:
    """``-{zh-hans:分形;zh-hant:碎形}-`` -> ``分形`` (the first variant); ``-{T|...}-``, ``-{H|...}-`` -> ``""``.

    MediaWiki's language converter shows one variant per reader; a corpus needs one, and the first is as
    good as any. Flags ``H`` (rule only), ``T`` (page title) and ``-`` (remove rule) show nothing.
    """
    body = match.group(1)
    flags = _CONVERTER_FLAGS.match(body)
    if flags:
        if set(flags.group(1).upper()) & {"H", "T", "-"}:
            return ""
        body = body[flags.end():]
    if _CONVERTER_VARIANT.match(body):
        first = body.split(";", 1)[0]
        return first.split(":", 1)[1].strip() if ":" in first else first
    return body


# ---------------------------------------------------------------- the whole conversion


def to_prose(wikitext: str, options: WikitextOptions = DEFAULT_OPTIONS) -> str:
    """Plain text of one page's wikitext: paragraphs and list items as lines, headings as lines."""
    text = _COMMENT.sub("", wikitext)
    if "<" in text:
        text = _NOWIKI.sub(lambda m: m.group(2).translate(_NOWIKI_ESCAPE), text)
        text = _NOWIKI_EMPTY.sub("", text)
        text = _MATH.sub(MATH_MARK, text)
        text = _DROP_TAG_RE.sub("", text)
    if "-{" in text:
        text = _LANG_CONVERTER.sub(_converted, text)
    text = _drop_sections(text, options)
    if "{{{" in text:
        text = _params(text)
    text = _strip_braces(text)
    text = _strip_links(text, options)
    text = text.replace("[[", "").replace("]]", "")
    text = _EXT_LINK.sub(lambda m: m.group(1) or "", text)
    if "<" in text:
        text = _BR.sub("\n", text)
        text = _TAG.sub("", _BLOCK_RUN.sub(_block_break, text))
    text = _QUOTES.sub("", text)
    text = _MAGIC.sub("", text)
    text = text.replace("{{", "").replace("}}", "")
    text = html.unescape(text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _EMPTY_PARENS.sub("", _PAREN_PUNCT.sub("(", text)))
    return "\n".join(_lines(text, options))
