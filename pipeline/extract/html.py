"""HTML bytes -> main text: charset decoding, main-content extraction, boilerplate trimming.

Why resiliparse and not trafilatura (measured in bench/README.md, "Crawl + extract"): resiliparse's
``extract_plain_text`` walks the DOM in C and is about ten times faster than trafilatura's lxml/XPath
pipeline. Out of the box it keeps more boilerplate (F1 0.90 vs 0.96 on the article-extraction benchmark),
so cheap steps close the gap without touching Python-level DOM nodes:

1. Skip selectors: page furniture by tag (headline ``h1``, ``header`` banners, ``figure`` captions, ``nav``,
   ``aside``, ``footer``), MediaWiki's reference markup on MediaWiki pages, and the page's own furniture
   class tokens and ids (``comments``, ``relatedPosts``, ``share_buttons``), found by a whole-word rule
   on the raw HTML and passed as exact ``[class~=...]`` / ``[id=...]`` selectors. Whole words, never
   prefixes or substrings: ``commented``, ``commentary``, ``shared-content`` or ``cookies-policy`` on an
   article wrapper removed whole pages.
2. ``_main_span``: the extracted lines are scored (long lines +, short lines and typical boilerplate
   lines -) and the best-scoring contiguous span is kept (a maximum-sum subarray), which trims
   bylines, captions and "related / subscribe / comments" tails around the article body; short
   boilerplate lines left inside that span are then dropped (UI labels in English and the major web
   languages: "Advertisement", "Werbung", "Читать далее", "相关文章", "京ICP备...", "© 2024 ...").
   A span that keeps under 30 % of a long main text (a list or directory page) gives way to the whole
   main text.
3. A counted full-page fallback (``Extraction.fallback``) when main-content detection kept implausibly
   little of a page with substantial text (it removed a wrapper holding the whole page); when that pass too
   comes back empty because a skip rule names the article's own wrapper (an ``<aside>`` or a furniture class
   holding most of the page's paragraphs), once more without those rules (the wrapper rescue).
4. Pages with ``MAIN_CONTENT_MAX_TAGS`` tags or more (counted on pages of ``MAIN_CONTENT_COUNT_CHARS``
   characters or more: huge listings such as forum threads, registries, directory tables, never articles)
   skip main-content detection: it costs resiliparse a few thousand instructions per element (attribute
   lookups, class/id regexes), two thirds of such a page's extraction, while the span trimming of step 2
   removes the same navigation (bench/README.md, issue 19, "Huge pages").

The thresholds are generic (line length, a short list of boilerplate and furniture words) and were chosen
on all four shared extraction sets at once; nothing is tuned to particular sites.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Callable

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree
from resiliparse.parse.encoding import bytes_to_str, detect_encoding, map_encoding_to_html5

from pipeline.extract.charsets import (MAX_REPLACED_SHARE, Decoded, decode_replacing, decode_strict, decoders,
                                      iso2022_jp, iso2022_kr, nearly_utf8, utf16_32, widest)
from pipeline.extract.cjk_headings import HEADING_FIRST as _HEADING_FIRST, ORDINAL_HEADING

try:  # the class/id scan compiled (see _attrs.c); without a C compiler the regex scan below does the same job
    from pipeline.extract import _attrs
except ImportError:
    _attrs = None
try:  # the line trimming compiled (see _lines.c); without it ``_trimmed_text`` below does the same job
    from pipeline.extract import _lines as _compiled_lines
except ImportError:
    _compiled_lines = None

# A ``<header>`` is the page's banner (logo, menu, search, a tagline), skipped, unless it holds HEADER_MIN_P
# paragraphs or more: then it is a text's own opening, as in the UDHR pages' preamble or a template that wraps the
# whole post in one. A ``<header>`` inside an ``<article>`` or ``<main>`` holding its dek and byline stays skipped:
# the article benchmark's and newspaper4k's gold leave the dek out (bench/README.md, "Boilerplate lines beyond
# English"). ``:has`` is checked on ``<header>`` elements only (the selector matches right to left), a handful a page.
HEADER_MIN_P = 3
_HEADER = "header:not(:has(" + " ~ ".join(["p"] * HEADER_MIN_P) + "))"
_SKIP_TAGS = ["h1", _HEADER, "figcaption", "figure", "aside", "nav", "footer"]
# MediaWiki's own markup (core and the Cite extension), the same on every wiki and every rendered page:
# section "[edit]" links, the "[1]" markers, the reference list, the table of contents, navigation boxes
# and the category bar. Kept, they pushed a long article under Gopher's alphabetic-words threshold.
_MEDIAWIKI = [
    "sup.reference", "ol.references", ".mw-references-wrap", ".reflist", ".mw-editsection",
    ".mw-cite-backlink", "#toc", ".navbox", ".catlinks", ".printfooter", "#siteSub", "#jump-to-nav",
]
# Class tokens / ids whose *first word* (split at "-", "_", digits and camelCase) is one of these, alone or
# plural, are page furniture: "comments", "comment-list", "relatedPosts", "share_buttons", "read-more". A
# first word may also be a compound with a generic part ("commentlist", "captionlink", "sharebar").
# Whole words, not prefixes or substrings: "commented" (a state class on an <article>), "commentary",
# "shared-content" and "cookies-policy" are not furniture.
FURNITURE_WORDS: tuple[tuple[str, ...], ...] = (
    ("related",), ("share",), ("sharing",), ("social",), ("newsletter",), ("caption",), ("byline",),
    ("promo",), ("promotional",), ("subscribe",), ("comment",), ("cookie",), ("advert",), ("sponsor",),
    ("breadcrumb",), ("read", "more"), ("recommend",), ("recommended",),
)
_COMPOUND_PARTS = (
    "link", "box", "bar", "list", "wrap", "wrapper", "area", "container", "block", "module", "section",
    "widget", "title", "btn", "button", "icon", "count", "form", "tool", "holder", "panel", "post", "article",
    "story", "item",
)
# ...unless a later word says the element is the page's text or describes a state of it: "cookie-policy" is
# the text of a cookie-policy page; "comments-open" / "comments-closed" are states of an article wrapper.
_CONTENT_WORDS = frozenset({"policy", "policies", "main", "open", "closed", "enabled", "disabled", "allowed"})
# The static part of the skip list (each selector costs lexbor time on every element, so the MediaWiki ones
# are added only to pages that carry MediaWiki's "mw-" classes); ``furniture_selectors`` adds the page's own
# furniture classes and ids.
SKIP_SELECTORS: list[str] = _SKIP_TAGS
_FALLBACK_SKIP: list[str] = ["nav", "aside", "footer"]
POST_META = False  # resiliparse drops bylines and post dates; the full-page fallback catches a wrapper it drops

# A line this long scores positive; shorter lines (menus, bylines, captions, buttons) score negative.
LINE_THRESHOLD = 30
LINE_CAP = 200  # one huge paragraph must not pull a span across a long run of junk lines
# ...except a line ending in the ideographic full stop (U+3002), which scores SENTENCE_SCORE at least: a Chinese or
# Japanese sentence of 10-29 characters is prose, not a menu item (a navigation or tag line never ends in one), and
# at -1 to -20 a few of them cut an article's last paragraphs off its span. Slightly positive, not neutral: a
# trailing run of such sentences joins the span. Not a wider threshold for CJK lines (their 15-30 character
# navigation lines then entered the span) and not a larger score (a Japanese paywall notice after the article
# joined): bench/README.md, "CJK pages: where the text is lost".
SENTENCE_END = "\u3002"
SENTENCE_SCORE = 1
# ...and a numbered heading of a Chinese, Japanese or Korean document ("第一条" article one, "第三章" chapter three,
# "제1조") scores 0 at least, not -27: a law's or a declaration's thirty 3-character article headings pulled the span
# of the Chinese UDHR down to 45 % of its text. Neutral, not positive: a list of such headings (a novel's table of
# contents) does not join a span by itself. Pages ("第2页") are not among the counters, and no page of the four shared
# sets, newspaper4k's or trafilatura's test pages changed (bench/README.md, "Boilerplate lines beyond English").
BOILERPLATE_PENALTY = 60
# English labels (chosen on the four shared sets): the label, then a word boundary, then anything
_BOILERPLATE_EN = (
    "advertisement", "advertising", "sponsored", "share( this)?( article| story| on)?", "subscribe", "sign up",
    "log ?in", "read more", "related", "more from", "recommended", "follow us", "cookies?", "we use cookies",
    "click here", "comments?", "leave a (comment|reply)", "photo:", "image \\d+ of", "caption", "close",
    "loading", "print", "email", "tweet", "skip to",
)
# A one-word label outside English counts only as the whole line: followed by nothing but punctuation, digits and
# spaces ("Kommentare (3)", "分享：", "Реклама"), so a sentence that starts with the word ("Werbung im Netz ...",
# "Реклама на телевидении ...") stays. Phrases that only a page's furniture says ("Alle Rechte vorbehalten",
# "Читать далее", "相关文章") may be followed by anything, as the English labels are.
_ALONE = r"(?=[\W\d_]*$)"


def _alone(*words: str) -> tuple[str, ...]:
    return tuple(word + _ALONE for word in words)


# The provinces' one-character abbreviations that open a Chinese site's ICP licence line ("京ICP备12345678号") and
# its public-security filing line ("粤公网安备 44030502000001号"), both on every mainland site's footer
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# UI labels users see on every site in the major web languages other than English (advertisement, share, read
# more, related articles, comments, log in / sign up, subscribe, print, e-mail, cookie notices, copyright lines).
# Lower case (matched ignoring case), each starting with a plain character (``_by_first_letter`` keys on it).
# In unspaced scripts ``\b`` after a label means punctuation, a space or the line's end follows: "广告" matches
# "广告：" but not "广告业的收入..." (Han characters are word characters), like "Share this" and "shared".
_BOILERPLATE_INTL = (
    # German
    *_alone("werbung", "anzeige", "teilen", "drucken", "kommentare?", "anmelden", "registrieren", "abonnieren",
            "weiterlesen", "e-mail"),
    "artikel teilen", "mehr (zum thema|lesen|dazu)", "ähnliche (beiträge|artikel)", "lesen sie auch",
    "das könnte (sie|dich) auch interessieren", "kommentar (schreiben|verfassen|hinterlassen)",
    "alle rechte vorbehalten", "wir (verwenden|nutzen) cookies",
    "diese (website|webseite|seite) (verwendet|nutzt) cookies",
    # French
    *_alone("publicité", "partager", "commentaires?", "imprimer", "connexion", "s['’]inscrire", "s['’]abonner",
            "courriel"),
    "lire (la suite|aussi|plus)", "à lire aussi", "a lire aussi", "voir aussi", "sur le même sujet",
    "articles? (similaires|connexes|liés)", "partager (cet article|sur)", "laisser un commentaire", "se connecter",
    "tous droits réservés", "nous utilisons (des )?cookies", "ce site utilise (des )?cookies",
    # Spanish
    *_alone("publicidad", "anuncio", "compartir", "comentarios?", "imprimir", "suscríbete", "regístrate", "correo"),
    "leer más", "sigue leyendo", "seguir leyendo", "lee también", "artículos? relacionad[ao]s", "noticias relacionadas",
    "te puede interesar", "también te puede interesar", "compartir en", "deja (un|tu) comentario", "iniciar sesión",
    "todos los derechos reservados", "utilizamos cookies", "usamos cookies",
    "este sitio (utiliza|usa) cookies", "esta (web|página) (utiliza|usa) cookies",
    # Portuguese
    *_alone("publicidade", "anúncio", "compartilhar", "partilhar", "comentários?", "entrar", "cadastre-se", "assine"),
    "leia (mais|também)", "continue lendo", "artigos relacionados", "notícias relacionadas", "matérias relacionadas",
    "veja também", "deixe (um|seu) comentário", "todos os direitos reservados", "este site (usa|utiliza) cookies",
    "fazer login",
    # Italian
    *_alone("pubblicità", "condividi", "commenti", "commento", "stampa", "accedi", "registrati", "iscriviti"),
    "leggi (anche|tutto|di più)", "continua a leggere", "articoli correlati", "ti potrebbe (anche )?interessare",
    "potrebbe (anche )?interessarti", "lascia un commento", "condividi (su|questo articolo)",
    "tutti i diritti riservati", "questo sito (utilizza|usa) (i )?cookie", "utilizziamo (i )?cookie",
    # Dutch
    *_alone("advertentie", "reclame", "delen", "reacties", "reageer", "afdrukken", "inloggen", "aanmelden",
            "abonneren"),
    "lees (meer|verder|ook)", "gerelateerde artikelen", "meer over dit onderwerp", "deel (dit artikel|op)",
    "alle rechten voorbehouden", "wij gebruiken cookies", "we gebruiken cookies",
    "deze (website|site) gebruikt cookies",
    # Polish
    *_alone("reklama", "udostępnij", "komentarze", "komentarz", "drukuj", "zaloguj( się)?", "zarejestruj( się)?",
            "subskrybuj"),
    "czytaj (więcej|także|też|dalej)", "zobacz (też|także|również)", "podobne artykuły", "powiązane artykuły",
    "dodaj komentarz", "wszelkie prawa zastrzeżone", "ta strona (używa|wykorzystuje) (plików )?cookies",
    "serwis (używa|wykorzystuje) (plików )?cookies",
    # Turkish
    *_alone("reklam", "paylaş", "yorumlar", "yorum", "yazdır", "giriş( yap)?", "üye ol", "kayıt ol", "abone ol"),
    "devamını oku", "ilgili (haberler|yazılar|içerikler)", "benzer (haberler|yazılar)", "yorum (yap|yaz)",
    "tüm hakları saklıdır",
    # Russian, Ukrainian
    *_alone("реклама", "поделиться", "комментарии", "комментарий", "войти", "вход", "регистрация", "подписаться",
            "печать", "распечатать", "подробнее", "поділитися", "коментарі"),
    "читать (далее|полностью|ещё|еще)", "читайте также", "похожие (статьи|новости|записи|материалы)",
    "другие новости", "оставить комментарий", "все права защищены", "мы используем (файлы )?cookie",
    "этот сайт использует (файлы )?cookie", "читати далі", "читайте також", "всі права захищені",
    # Arabic
    *_alone("إعلان", "اعلان", "شارك", "مشاركة", "التعليقات", "تعليقات", "طباعة", "تسجيل الدخول", "اشترك"),
    "اقرأ (أيضا|أيضًا|المزيد)", "إقرأ (أيضا|أيضًا|المزيد)", "مقالات (ذات صلة|مشابهة|متعلقة)",
    "أخبار (ذات صلة|مشابهة|متعلقة)", "مواضيع (ذات صلة|مشابهة|متعلقة)",
    "أضف تعليق", "جميع الحقوق محفوظة", "نستخدم ملفات تعريف الارتباط", "يستخدم هذا الموقع ملفات تعريف الارتباط",
    # Vietnamese
    *_alone("quảng cáo", "chia sẻ", "bình luận", "đăng nhập", "đăng ký"),
    "xem thêm", "đọc thêm", "tin liên quan", "bài viết liên quan", "tin cùng chuyên mục", "gửi bình luận",
    "bản quyền thuộc về", "chúng tôi sử dụng cookie",
    # Indonesian
    *_alone("iklan", "bagikan", "komentar", "cetak", "masuk", "daftar", "berlangganan"),
    "baca (juga|selengkapnya)", "berita terkait", "artikel terkait", "tulis komentar", "beri komentar",
    "tinggalkan komentar", "hak cipta dilindungi", "situs ini menggunakan cookie", "kami menggunakan cookie",
    # Chinese (simplified and traditional)
    *_alone("广告", "廣告", "分享", "评论", "評論", "打印", "列印", "登录", "登入", "注册", "註冊", "订阅", "訂閱",
            "更多", "返回顶部", "返回頂部"),
    "分享到\\w*", "相关(文章|阅读|推荐|新闻|链接)\\w*", "相關(文章|閱讀|推薦|新聞|連結)\\w*", "阅读全文", "閱讀全文",
    "查看更多", "阅读更多", "閱讀更多", "展开全文", "猜你喜欢", "发表评论", "發表評論", "网友评论", "上一篇", "下一篇",
    "版权所有", "版權所有", "我们使用 ?cookie", "本网站使用 ?cookie", "本網站使用 ?cookie",
    "icp[备備证證]\\w*", *(f"{p}(icp[备備证證]|公网安备)\\w*" for p in _PROVINCES),
    # Japanese
    *_alone("広告", "シェア", "コメント", "ログイン", "新規登録", "会員登録", "印刷", "メール"),
    "関連記事", "関連ニュース", "続きを読む", "もっと見る", "この記事をシェア", "前の記事", "次の記事",
    "無断転載を禁じます", "無断転載禁止", "当サイトでは ?(cookie|クッキー)", "本サイトでは ?(cookie|クッキー)",
    # Korean
    *_alone("광고", "공유", "댓글", "로그인", "회원가입", "구독", "인쇄", "이메일", "더보기"),
    "관련 ?기사", "공유하기", "기사 ?공유", "저작권자", "무단 ?전재", "이전글", "다음글",
    # Copyright lines in any language: "© 2024 ...", "ⓒ 연합뉴스", "Copyright © ...", "All rights reserved"
    "© ?\\w+", "ⓒ ?\\w+", "copyright ?(©|\\(c\\)|\\d{4})", "all rights reserved",
)
_BOILERPLATE_ALTERNATIVES = _BOILERPLATE_EN + _BOILERPLATE_INTL


def boilerplate_line() -> re.Pattern[str]:
    """All boilerplate alternatives as one regex: the reference ``_BOILERPLATE_BY_FIRST`` must agree with (the
    tests compare them). Compiled on request: extraction uses the table, and this pattern cost ~14 ms of every
    process's start-up (bench/README.md, "The crawl stage's glue and the start-up's regexes")."""
    return re.compile(r"^(" + "|".join(_BOILERPLATE_ALTERNATIVES) + r")\b", re.IGNORECASE)  # re caches it


_BOILERPLATE_MAX_LEN = 100
# What re's IGNORECASE matches with a letter besides its upper and lower case (re's own table of such cases):
# the dotted and dotless i, the long s, the Kelvin and Angstrom signs, and the Cyrillic letters' old variants
# (U+1C80-U+1C88). tests/pipeline/extract/test_html.py checks the table's keys against the regex over every code
# point, so a first letter added later with another such case fails there, not silently here.
_FOLDED = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a", "å": "\u212b", "в": "\u1c80", "д": "\u1c81",
           "о": "\u1c82", "с": "\u1c83", "т": "\u1c84\u1c85", "ъ": "\u1c86"}


class _FirstLetterMatch:
    """One first letter's alternatives, compiled on the first line that starts with one of its keys, which then
    map to the compiled ``match`` itself (so later lines pay nothing more). Why: compiling all 137 groups cost
    ~15 ms of every process's start-up, and a run's pages start lines with a fraction of those letters."""

    __slots__ = ("pattern", "keys", "table")

    def __init__(self, pattern: str, keys: str, table: dict[str, Callable[[str], re.Match[str] | None]]) -> None:
        self.pattern, self.keys, self.table = pattern, keys, table

    def __call__(self, line: str) -> re.Match[str] | None:
        match = re.compile(self.pattern, re.IGNORECASE).match
        for key in self.keys:
            self.table[key] = match  # same keys: the dict is not resized while a caller (C's trim) reads it
        return match(line)


def _by_first_letter() -> dict[str, Callable[[str], re.Match[str] | None]]:
    """``boilerplate_line()`` split by the first character of its alternatives, keyed by every character a line
    can start with to match one of them: the character in either case and what IGNORECASE folds onto it
    (``_FOLDED``); Han, kana, Hangul and Arabic letters have no case and key themselves. A line starting with any
    other character cannot match, and one that does is tried against its character's few alternatives, not all
    of them (~2,000 instructions a call for thirty English ones: 3 % of the crawl stage in callgrind). Whether a
    line matches does not depend on the alternatives' order. Each group is compiled on its first use
    (``_FirstLetterMatch``)."""
    table: dict[str, Callable[[str], re.Match[str] | None]] = {}
    for letter in sorted({alternative[0] for alternative in _BOILERPLATE_ALTERNATIVES}):
        group = [a for a in _BOILERPLATE_ALTERNATIVES if a[0] == letter]
        keys = letter + letter.upper() + _FOLDED.get(letter, "")
        match = _FirstLetterMatch(r"^(" + "|".join(group) + r")\b", keys, table)
        _LAZY_MATCHES.append(match)  # held here too: C's trim calls a borrowed reference the call replaces
        for key in keys:
            table[key] = match
    return table


_LAZY_MATCHES: list[_FirstLetterMatch] = []
_BOILERPLATE_BY_FIRST = _by_first_letter()


def decode_html(body: bytes, declared: str | None = None) -> Decoded:
    """Decode HTML bytes; returns the text, the charset used and the bytes replaced (``charsets.Decoded``).

    A UTF-16/32 byte-order mark first (it overrides any label, as in browsers), ISO-2022-JP's or -KR's
    escapes (7-bit, so valid UTF-8 too), a declared UTF-16/32 where the body has NUL bytes, then valid
    UTF-8: servers often declare latin-1 for UTF-8 pages, and bytes that happen to be valid UTF-8 are almost
    never another encoding; nearly valid UTF-8 as well, its few damaged bytes replaced
    (``charsets.nearly_utf8``). Then the HTTP-declared charset if it decodes cleanly (unless a Western
    label gives way to the page's own charset: ``_own_charset``), then ``<meta charset>`` / uchardet
    detection, decoding with replacement characters so a lying or broken charset never raises. Each label is
    read as browsers read it, with its vendor supersets (``pipeline.extract.charsets``: a Shift_JIS page with
    an NEC numeral is cp932).
    """
    if marked := utf16_32(body):
        return marked
    if jis := iso2022_jp(body):
        return Decoded(jis[0], "iso-2022-jp", jis[1])
    if (korean := iso2022_kr(body)) is not None:
        return Decoded(korean, "iso-2022-kr")
    if declared and b"\x00" in body and declared.lower().startswith(_UTF16_32):
        # UTF-16/32 without a byte-order mark, as the header says: its ASCII is valid UTF-8, with a NUL each
        if found := decode_strict(body, decoders(declared)):
            return Decoded(found[0], declared.lower())
    try:
        return Decoded(body.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if damaged := nearly_utf8(body):
        return Decoded(damaged[0], "utf-8", damaged[1])
    if declared and (found := decode_strict(body, labelled := decoders(declared))):
        if not (labelled[0] == "cp1252" and (own := _own_charset(body))):
            return Decoded(found[0], declared.lower())
        return own
    detected = _detected(body)
    if found := decode_strict(body, decoders(detected)):
        return Decoded(*found)  # named by the codec that decoded
    if (codec := widest(detected)) not in (None, "utf-8", "cp1252", "iso8859-1"):
        # a page in the guessed charset with a few damaged bytes (a cut character, a stray byte): those
        # replaced and counted, as the books reader does; windows-1252 "decodes" nearly any bytes, mojibake
        text, replaced = decode_replacing(body, codec)
        if replaced <= max(1, len(body) * MAX_REPLACED_SHARE):
            return Decoded(text, codec, replaced)
    if found := decode_strict(body, ["cp1252"]):  # a <meta charset> can lie as well
        return Decoded(*found)
    try:  # the guess with replacement characters; the bytes it could not decode counted
        return Decoded(bytes_to_str(body, detected, errors="replace"), detected, decode_replacing(body, detected)[1])
    except (LookupError, UnicodeError):
        return Decoded(body.decode("utf-8", errors="replace"), "utf-8", decode_replacing(body, "utf-8")[1])


_UTF16_32 = ("utf-16", "utf-32", "utf16", "utf32", "ucs-2", "ucs2")
# uchardet answers that are no WHATWG label but right where it gives them: its Korean prober (UHC: EUC-KR's
# superset, which the WHATWG calls EUC-KR) and its Russian models for the IBM855 and Mac Cyrillic code pages.
# Its Western and Central European models for DOS/Mac code pages (IBM850, IBM852, IBM865, MAC-CENTRALEUROPE)
# are not: they named 17 of the shared English pages (a few accented or typographic bytes each) IBM865 or
# IBM852, where windows-1252 reads them right (bench/README.md, "Charsets of files nobody here has seen").
_DETECTED_BEYOND_WHATWG = frozenset({"cp949", "johab", "cp855", "mac-cyrillic"})


def _detected(body: bytes) -> str:
    """The page's <meta> charset or uchardet's guess, as resiliparse's WHATWG renaming names it (where it
    does not know a name it says UTF-8, which cannot decode the page at this point: windows-1252 follows),
    or uchardet's own name where that is one of ``_DETECTED_BEYOND_WHATWG``. Before, every Korean page
    without a declared charset was read as windows-1252 mojibake."""
    raw = detect_encoding(body, from_html_meta=True, html5_compatible=False)
    if not raw:
        return "utf-8"
    renamed = map_encoding_to_html5(raw)
    if renamed == "utf-8" and (codecs := decoders(raw)) and codecs[0] in _DETECTED_BEYOND_WHATWG:
        return raw
    return renamed


# A charset the page names itself: <meta charset=...>, <meta http-equiv=... content="...; charset=...">, or
# an XML declaration's encoding (RSS/Atom feeds, XHTML), in the first 1,024 bytes (where the WHATWG prescan
# and resiliparse look)
_OWN_LABEL = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.()-]+)"""
                        rb"""|<\?xml[^>]{0,100}?encoding\s*=\s*["']([A-Za-z0-9_:.()-]+)""", re.IGNORECASE)
# Legacy multi-byte charsets: a page of such characters that decodes whole in one is not windows-1252 text
_MULTIBYTE = frozenset({"shift_jis", "cp932", "euc_jp", "euc_jis_2004", "gb2312", "gbk", "gb18030", "big5", "cp950",
                        "big5hkscs", "euc_kr", "cp949", "johab"})


def _own_charset(body: bytes) -> Decoded | None:
    """Where an HTTP header said ISO-8859-1, US-ASCII or windows-1252 (read alike): the page in another charset
    when the page says so itself (``<meta>`` or an XML declaration naming a non-Western charset that decodes
    it whole), or when uchardet names a legacy multi-byte charset (CJK) that decodes it whole; else None and
    the header is kept.

    Why: ISO-8859-1 is HTTP/1.1's default and the charset web servers were configured to send for every
    page (Apache's ``AddDefaultCharset``), so it is the label most often wrong; browsers honour it and show
    mojibake. A Western page never names another charset itself, and a page that decodes whole as
    Shift_JIS, GBK, Big5 or EUC-KR and that uchardet also reads as such is not windows-1252 text; a
    single-byte guess (windows-1251 against windows-1250 or -1252) is too weak to override a header."""
    own = _OWN_LABEL.search(body, 0, 1024)
    if own:
        labelled = decoders((own.group(1) or own.group(2)).decode("ascii"))
        if labelled and labelled[0] not in _WESTERN_READING and (found := decode_strict(body, labelled)):
            return Decoded(*found)
    labelled = decoders(detect_encoding(body, html5_compatible=False))
    if labelled and labelled[0] in _MULTIBYTE and (found := decode_strict(body, labelled)):
        return Decoded(*found)
    return None


_WESTERN_READING = frozenset({"cp1252", "utf-8", "iso8859-15"})  # utf-8 did not decode: the page says so wrongly


def _boilerplate_flags(lines: list[str]) -> list[bool]:
    """Whether each line is a short boilerplate line ("Advertisement", "Share this", "Read more"): computed
    once per list of lines, then used by both the span scoring and the dropping of such lines inside it."""
    table, cap = _BOILERPLATE_BY_FIRST, _BOILERPLATE_MAX_LEN
    flags = []
    for line in lines:
        match = table.get(line[0]) if len(line) < cap else None
        flags.append(match is not None and match(line) is not None)
    return flags


def _main_span(lines: list[str], flags: list[bool] | None = None) -> list[str]:
    """The contiguous run of lines with the highest content score (Kadane's maximum subarray)."""
    span = _span(lines, _boilerplate_flags(lines) if flags is None else flags)
    return lines if span is None else lines[span[0]:span[1]]


def _span(lines: list[str], flags: list[bool]) -> tuple[int, int] | None:
    """``_main_span``'s bounds, or None when no span scores above zero; ``flags`` from ``_boilerplate_flags``."""
    best = current = 0
    best_start = best_end = current_start = 0
    for i, (line, boilerplate) in enumerate(zip(lines, flags)):
        n = len(line)
        score = (n if n < LINE_CAP else LINE_CAP) - LINE_THRESHOLD
        if score < SENTENCE_SCORE and line[-1] == SENTENCE_END:
            score = SENTENCE_SCORE
        if score < 0 and line[0] in _HEADING_FIRST and ORDINAL_HEADING.match(line):
            score = 0
        if boilerplate:
            score -= BOILERPLATE_PENALTY
        if current <= 0:
            current, current_start = score, i
        else:
            current += score
        if current > best:
            best, best_start, best_end = current, current_start, i + 1
    if best <= 0:  # no line long enough to be prose (lists, tables, short pages): keep everything
        return None
    return best_start, best_end


# Attribute values, found with literal-prefixed patterns where the compiled scan (_attrs.c, the same matches)
# is not built (a C-speed scan of the raw HTML; walking resiliparse's DOM from Python costs far more).
# "data-class=" or "data-id=" values can match too: they only add selectors that match an element when a real
# class or id has the same furniture name.
_CLASS_ATTR = re.compile(r"""class=["']([^"'<>]*)""")  # no spaces around "=": rare, and \s* cost a third
_ID_ATTR = re.compile(r"""id=["']([^"'<>\s]*)""")


def _head(words: tuple[str, ...]) -> str:
    return "[-_]?".join(words) + "s?"  # "read-more", "read_more", "readMore"; "comment" or "comments"


# A furniture token (matched whole): a furniture word (any case) at the start, an optional generic compound
# part, then the end of the token or a word boundary ("-", "_", a digit, or an upper-case letter as in
# "relatedPosts").
_FURNITURE_TOKEN = re.compile(
    r"(?i:" + "|".join(_head(w) for w in FURNITURE_WORDS) + r")"
    r"(?:(?i:" + "|".join(_COMPOUND_PARTS) + r")s?)?(?:[-_0-9A-Z]\S*)?")
_CONTENT_WORD = re.compile(
    r"(?:[-_0-9]|(?<=[a-z])(?=[A-Z]))(?i:" + "|".join(sorted(_CONTENT_WORDS)) + r")(?![a-z])")


def is_furniture(name: str) -> bool:
    """Whether one class token or id names page furniture (see ``FURNITURE_WORDS``)."""
    return bool(_FURNITURE_TOKEN.fullmatch(name)) and not _CONTENT_WORD.search(name)


_FIRST_WORDS = sorted({w[0] for w in FURNITURE_WORDS})
_FIRST_WORDS_T = tuple(_FIRST_WORDS)
# ASCII-only lower-casing keeps every index of the lowered string valid in the original ("İ".lower() is two
# characters); the furniture words are ASCII.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _joined_values(values: list[str]) -> str:
    """The distinct whitespace-separated tokens of attribute values, each with a space before and after."""
    return " " + " ".join(" ".join(set(values)).split()) + " "


def _furniture(joined: str) -> list[str]:
    """The furniture tokens in ``_joined_values``' string. ``str.find`` on the lower-cased string finds the
    few candidates; the regex checks only those (running it over every token cost a third of the extraction
    time on long pages)."""
    # str.lower() is ASCII lower-casing on an ASCII string, and ten times faster than translate().
    low = joined.lower() if joined.isascii() else joined.translate(_ASCII_LOWER)
    found: set[str] = set()
    for word in _FIRST_WORDS:
        at = low.find(word)
        while at >= 0:
            if low[at - 1] == " ":
                token = joined[at:joined.index(" ", at)]
                if is_furniture(token) and '"' not in token and "\\" not in token:
                    found.add(token)
            at = low.find(word, at + 1)
    return sorted(found)


def _attribute_values(html: str) -> tuple[str, str]:
    """The page's class and id tokens, as ``_joined_values`` strings."""
    return _joined_values(_CLASS_ATTR.findall(html)), _joined_values(_ID_ATTR.findall(html))


def _selectors(classes: str, ids: str) -> list[str]:
    return [f'[class~="{t}"]' for t in _furniture(classes)] + [f'[id="{t}"]' for t in _furniture(ids)]


def _is_candidate(token: str) -> bool:
    return is_furniture(token) and '"' not in token and "\\" not in token


def _page_furniture(html: str) -> tuple[list[str], bool]:
    """The page's furniture selectors, and whether its classes or ids carry MediaWiki's "mw-" prefix.

    The compiled scan takes the same attribute values as the two regexes and hands back only the tokens
    that start with a furniture word; the same whole-word rule then decides (tests compare both paths).
    """
    if _attrs is None:
        classes, ids = _attribute_values(html)
        return _selectors(classes, ids), "mw-" in classes or "mw-" in ids
    class_tokens, id_tokens, mediawiki = _attrs.scan(html, _FIRST_WORDS_T)
    return ([f'[class~="{t}"]' for t in sorted(filter(_is_candidate, class_tokens))]
            + [f'[id="{t}"]' for t in sorted(filter(_is_candidate, id_tokens))]), mediawiki


def furniture_selectors(html: str) -> list[str]:
    """Whole-token CSS selectors (``[class~="x"]``, ``[id="x"]``) for the page's furniture classes and ids."""
    return _page_furniture(html)[0]


@dataclass(frozen=True)
class Extraction:
    """The page's main text, whether it came from the full-page fallback, and whether main-content detection
    ran (False on a huge listing, ``MAIN_CONTENT_MAX_TAGS``); the readers count both."""

    text: str
    fallback: bool = False
    main_content: bool = True


# The full-page fallback: main-content extraction sometimes removes a wrapper that holds the whole page (a
# ``div#header`` around everything, a table layout whose table resiliparse takes for a menu). When what it
# kept is short, the page is extracted again without main-content detection (same furniture rules, same
# boilerplate-line trimming), and that text wins when it is substantial and the main-content text is a small
# part of it. The full pass keeps the furniture rules: without them a short article followed by a long
# comment thread switched to the thread. Thresholds in bench/README.md ("Crawl + extract").
FALLBACK_CHECK_CHARS = 1000  # main text shorter than this pays for the second pass
FALLBACK_MIN_CHARS = 500  # the full-page text must hold at least this much prose...
FALLBACK_RATIO = 0.2  # ...and the main text be under this share of it
# The span trimming can keep one long line of a page made of short ones (a link directory, a list, a poem);
# when it keeps under TRIM_KEEP_RATIO of a main text of at least TRIM_MIN_RAW characters, the whole main
# text is kept instead (short boilerplate lines still dropped).
TRIM_MIN_RAW = 2000
TRIM_KEEP_RATIO = 0.3
# Pages with this many tags (every "<", start and end tags, comments, "<" in scripts: one C-speed count) are
# extracted without main-content detection (same skip selectors, same trimming, no fallback pass). The four
# gold sets' largest page has 5,680; issue 19's corpus has four pages over 20,000 (25,000-70,000: archive.org
# forum listings, IANA's protocol registry), half of its main-content pass, and they come out identical either
# way. A rule on character length instead changed 13 article pages over 400 kB (inline scripts make article
# pages long, not element-rich).
MAIN_CONTENT_MAX_TAGS = 20_000
# ...counted only on pages this long (decoded characters): the count costs ~0.4 us a kB (4 % of an article
# page's extraction), and no page shorter than this has come near the limit (the four pages above have
# 500,000 to 1,230,000 characters; all of the cleaning sets' pages and 156 of the 181 articles are shorter).
MAIN_CONTENT_COUNT_CHARS = 250_000
# The wrapper rescue: a skip rule can name an element that holds the article itself (an ``<aside>`` around the
# whole story, a ``share-zone`` class on the text's wrapper), and then both passes above come back (nearly) empty.
# When the main text is under RESCUE_MAX_CHARS (nothing or a title: not a short article, which the rescue would
# bury under menus) and the fallback pass did not take over, the skip rules matching elements that hold more than
# WRAPPER_P_SHARE of the page's ``<p>`` elements (at least WRAPPER_MIN_P of them) are taken for wrappers, not
# furniture, and the full-page pass runs once more without them, under the fallback's thresholds. Paragraphs,
# not text length: a sidebar of links or a script-heavy ``<aside>`` holds text but few paragraphs. Measured on
# held-out pages and all four shared sets (bench/README.md, "Held-out gold").
RESCUE_MAX_CHARS = 200
WRAPPER_P_SHARE = 0.5
WRAPPER_MIN_P = 3


def _lines(text: str) -> list[str]:
    """The text's stripped, non-empty lines (``filter``/``map`` keep the loop in C: a portal page extracts to
    thousands of lines)."""
    return list(filter(None, map(str.strip, text.split("\n"))))


def extract(html: str | bytes, declared_charset: str | None = None,
            max_tags: int | None = MAIN_CONTENT_MAX_TAGS) -> Extraction:
    """Main text of an HTML page (paragraphs separated by blank lines; '' when nothing is left) and whether
    the full-page fallback produced it. ``max_tags``: pages of ``MAIN_CONTENT_COUNT_CHARS`` characters or
    more with this many "<" skip main-content detection (None: it always runs)."""
    if isinstance(html, bytes):
        html = decode_html(html, declared_charset).text
    tree = HTMLTree.parse(html)  # parsed once, extracted once or twice
    furniture, mediawiki = _page_furniture(html)
    # MediaWiki's markup on pages whose classes or ids carry its "mw-" prefix (looked up in the scanned values:
    # a search of the whole page cost 3 % of the extraction time on 150 kB pages)
    if mediawiki:
        furniture += _MEDIAWIKI
    main_content = max_tags is None or len(html) < MAIN_CONTENT_COUNT_CHARS or html.count("<") < max_tags
    main, main_chars = _trimmed_text(extract_plain_text(
        tree,
        main_content=main_content,
        comments=False,  # reader comments are not the page's text
        post_meta=POST_META,
        alt_texts=False,  # image alt texts repeat captions and are mostly noise
        list_bullets=False,
        skip_elements=SKIP_SELECTORS + furniture,
    ), keep_whole=True)
    if main_content and main_chars < FALLBACK_CHECK_CHARS:
        skip = _FALLBACK_SKIP + furniture
        full, full_chars = _full_pass(tree, skip)
        if full_chars >= FALLBACK_MIN_CHARS and main_chars < FALLBACK_RATIO * full_chars:
            return Extraction(full, fallback=True)
        if main_chars < RESCUE_MAX_CHARS and (wrappers := _wrappers(tree, skip)):
            full, full_chars = _full_pass(tree, [s for s in skip if s not in wrappers])
            if full_chars >= FALLBACK_MIN_CHARS and main_chars < FALLBACK_RATIO * full_chars:
                return Extraction(full, fallback=True)
    return Extraction(main, main_content=main_content)


def _full_pass(tree: HTMLTree, skip: list[str]) -> tuple[str, int]:
    """The fallback's text: the whole page without ``skip``, trimmed (``_trimmed_text``), and its length."""
    return _trimmed_text(extract_plain_text(
        tree, main_content=False, comments=False, alt_texts=False, list_bullets=False, skip_elements=skip,
    ), keep_whole=False)


def _wrappers(tree: HTMLTree, selectors: list[str]) -> list[str]:
    """The skip selectors whose elements hold more than ``WRAPPER_P_SHARE`` of the page's ``<p>`` elements (the
    page having ``WRAPPER_MIN_P`` or more): wrappers of the text, not furniture (the wrapper rescue above)."""
    body = tree.body
    if body is None:
        return []
    paragraphs = len(body.query_selector_all("p"))
    if paragraphs < WRAPPER_MIN_P:
        return []
    limit = WRAPPER_P_SHARE * paragraphs
    # one walk for all the rules first (the paragraphs any of them holds): on most pages that settles it
    if len(body.query_selector_all(", ".join(f"{s} p" for s in selectors))) <= limit:
        return []
    return [s for s in selectors if len(body.query_selector_all(f"{s} p")) > limit]


def _trimmed_text(raw: str, keep_whole: bool) -> tuple[str, int]:
    """resiliparse's text after ``_trim`` (and, with ``keep_whole``, the rule that keeps the whole text when the
    span keeps under ``TRIM_KEEP_RATIO`` of ``TRIM_MIN_RAW`` characters or more): the kept lines joined by
    blank lines, and the sum of their lengths. ``_lines.c`` does the same in one pass over ``raw``, making a str
    only for the lines the boilerplate regex looks at and the lines kept (15 -> ~3 ms for one copy of issue 19's
    corpus: bench/README.md, "Whole chain, eighth pass")."""
    if _compiled_lines is not None:
        return _compiled_lines.trim(raw, _BOILERPLATE_BY_FIRST, LINE_CAP, LINE_THRESHOLD, BOILERPLATE_PENALTY,
                                    _BOILERPLATE_MAX_LEN, TRIM_MIN_RAW if keep_whole else -1, TRIM_KEEP_RATIO,
                                    ord(SENTENCE_END), SENTENCE_SCORE, _HEADING_FIRST, ORDINAL_HEADING.match)
    lines = _lines(raw)
    flags = _boilerplate_flags(lines)
    kept = _trim(lines, flags)
    if keep_whole:
        raw_chars = sum(map(len, lines))
        if raw_chars >= TRIM_MIN_RAW and sum(map(len, kept)) < TRIM_KEEP_RATIO * raw_chars:
            kept = _drop_boilerplate_lines(lines, flags)
    return "\n\n".join(kept), sum(map(len, kept))


def extract_text(html: str | bytes, declared_charset: str | None = None) -> str:
    """Main text of an HTML page, paragraphs separated by blank lines; '' when nothing is left."""
    return extract(html, declared_charset).text


def _trim(lines: list[str], flags: list[bool] | None = None) -> list[str]:
    """The best-scoring span of lines without the short boilerplate lines left inside it (``flags``: the
    lines' ``_boilerplate_flags``, computed here when not given)."""
    flags = _boilerplate_flags(lines) if flags is None else flags
    span = _span(lines, flags)
    if span is None:
        return _drop_boilerplate_lines(lines, flags)
    start, end = span
    return _drop_boilerplate_lines(lines[start:end], flags[start:end])


def _drop_boilerplate_lines(lines: list[str], flags: list[bool] | None = None) -> list[str]:
    """Short boilerplate lines ("Advertisement", "Share this", "Read more") inside the kept span: the span
    keeps them when prose surrounds them, but they are never the page's text."""
    flags = _boilerplate_flags(lines) if flags is None else flags
    kept = [line for line, boilerplate in zip(lines, flags) if not boilerplate]
    return kept or lines
