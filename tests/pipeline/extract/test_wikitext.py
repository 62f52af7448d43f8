"""wikitext -> prose: each kind of markup on its own, then every page of the real enwiki slice."""

from __future__ import annotations

import bz2
import html
import re
from pathlib import Path

import pytest

from pipeline.extract.wikitext import CATEGORY_NAMESPACES, FILE_NAMESPACES, WikitextOptions, to_prose

SLICE = "wiki/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
LEFTOVER_MARKUP = ["{{", "}}", "[[", "]]", "<ref", "</ref", "{|", "|}", "|-", "||", "'''", "''", "<!--",
                   "__TOC__", "style=", "thumb|"]


def test_references_vanish_and_the_sentence_stays_joined() -> None:
    text = ('These are often described as stateless societies,<ref>"ANARCHISM, a social philosophy"'
            '</ref><ref name="iaf-ifa"/> although several authors disagree.<ref name=slevin />')
    assert to_prose(text) == "These are often described as stateless societies, although several authors disagree."


def test_links_show_their_text() -> None:
    text = "The [[Greek language|Greek]] word [[anarchy]], see [[Paris (France)|]] and [[#History|below]]s."
    assert to_prose(text) == "The Greek word anarchy, see Paris and belows."


def test_files_categories_and_interlanguage_links_vanish() -> None:
    text = ("[[File:Ecf.jpg|thumb|A [[flag]] with [a] caption]]Albedo is a ratio.\n"
            "[[Category:Climate forcing]]\n[[fr:Albédo]]\n[[Image:X.png|left]]See [[:Category:Optics|optics]].")
    assert to_prose(text) == "Albedo is a ratio.\n\nSee optics."


def test_templates_vanish_but_prose_templates_keep_their_text() -> None:
    text = ("{{Infobox country\n|name = Estonia\n|area = {{convert|45227|km2}}\n}}"
            "It is {{convert|5|km|mi}} long{{citation needed|date=May 2016}}, called {{lang|fr|[[texte|le texte]]}} "
            "and {{nowrap|{{convert|3|to|4|m}}}}{{snd}}roughly {{circa|1900}}.")
    assert to_prose(text) == "It is 5 km long, called le texte and 3 to 4 m – roughly c. 1900."


def test_tables_vanish_with_their_markup() -> None:
    text = ('Before.\n{| class="wikitable" style="text-align:center"\n|+ Caption\n|-\n! Year !! Votes\n|-\n'
            '| 1972 || {{n/a}}\n|-\n| style="color:red" | 1982 || 256\n{|\n|nested\n|}\n|}\nAfter.')
    assert to_prose(text) == "Before.\n\nAfter."


def test_headings_are_lines_and_reference_sections_go() -> None:
    text = ("Intro.\n== History ==\nOld times.\n=== Origins ===\nEarly.\n== See also ==\n* [[Albedo]]\n"
            "=== More ===\n* link\n== References ==\n{{reflist}}\n== Culture ==\nArt.\n== External links ==\n"
            "* [http://example.org Site]")
    assert to_prose(text) == "Intro.\n\nHistory\nOld times.\n\nOrigins\nEarly.\n\nCulture\nArt."
    assert to_prose(text, WikitextOptions(keep_headings=False)) == "Intro.\nOld times.\nEarly.\nArt."


def test_a_heading_whose_section_is_empty_goes() -> None:
    assert to_prose("Text.\n== Gallery ==\n<gallery>\nA.jpg|x\n</gallery>\n== Life ==\nBorn.") == (
        "Text.\n\nLife\nBorn."
    )


def test_lists_become_lines() -> None:
    assert to_prose("Kinds:\n* [[Mutualism]]\n** sub\n# one\n; Term : def\n: indented") == (
        "Kinds:\nMutualism\nsub\none\nTerm: def\nindented"
    )


def test_comments_tags_magic_words_quotes_and_external_links() -> None:
    text = ("__NOTOC__'''Albedo''' (<!-- hidden -->''albedo'') is<br/>a <span style=\"x\">ratio</span> "
            "of km<sup>2</sup>; see [http://nasa.gov NASA] and [http://example.org]&nbsp;here.<math>x^2</math>")
    assert to_prose(text) == "Albedo (albedo) is\na ratio of km2; see NASA and here."


def test_nowiki_text_is_kept_literally() -> None:
    assert to_prose("Write <nowiki>[[link]] and {{tpl}}</nowiki> to link.") == "Write [[link]] and {{tpl}} to link."


@pytest.mark.parametrize("broken", ["a {{b " * 400 + "end", "x }} y ]] z [[ w", "{| no end\n|cell", "<ref>never closed",
                                    "[[File:x.jpg|thumb|[[a]]", "{{{1}}}", "'''''", "=", "== =="])
def test_broken_markup_never_raises(broken: str) -> None:
    text = to_prose(broken)
    assert "{{" not in text and "[[" not in text


@pytest.fixture(scope="module")
def slice_pages(shared_data: Path) -> dict[str, str]:
    """Title -> wikitext of every non-redirect page of the real enwiki slice."""
    raw = bz2.decompress((shared_data / SLICE).read_bytes()).decode()
    pages = re.findall(r"<title>(.*?)</title>.*?<text[^>]*>(.*?)</text>", raw, re.S)
    return {title: html.unescape(text) for title, text in pages if not text.lower().startswith("#redirect")}


def test_every_real_page_comes_out_without_markup(slice_pages: dict[str, str]) -> None:
    assert len(slice_pages) == 106
    for title, wikitext in slice_pages.items():
        text = to_prose(wikitext)
        left = [m for m in LEFTOVER_MARKUP if m in text]
        assert not left, f"{title}: {left}"
        assert "[[Category:" not in text and not re.search(r"^\s*[*#]", text, re.M), title


def test_real_article_text_survives(slice_pages: dict[str, str]) -> None:
    anarchism = to_prose(slice_pages["Anarchism"])
    assert anarchism.startswith("Anarchism is a political philosophy that advocates self-governed societies based "
                                "on voluntary institutions. These are often described as stateless societies, "
                                "although several authors")
    assert "\nHistory\n" in anarchism and "\nOrigins\n" in anarchism
    assert "\nReferences\n" not in anarchism and "\nExternal links\n" not in anarchism
    albedo = to_prose(slice_pages["Albedo"])
    assert 'derived from Latin albedo "whiteness"' in albedo
    assert "is the diffuse reflectivity or reflecting power of a surface." in albedo


# ---------------------------------------------------------------- pages nobody tuned on (issue 12)


def test_an_indented_table_goes_with_its_markup() -> None:
    assert to_prose("Intro.\n:{| class=wikitable\n|-\n| m || n\n|}\nAfter.") == "Intro.\n\nAfter."
    assert to_prose("Intro.\n::  {| style=\"margin:auto\"\n| [[a]] || b\n|}\nAfter.") == "Intro.\n\nAfter."


@pytest.mark.parametrize("markup", ['<templatestyles src="Reflist/styles.css" />', '<br clear="all">',
                                    '<br style="clear:both;" />', "{{clear}}\n<br clear=all>\n{{-}}",
                                    '<templatestyles src="x.css"/>{{Infobox|a=1}}\n[[Category:X]]'])
def test_markup_only_pages_come_out_empty(markup: str) -> None:
    assert to_prose(markup) == ""


def test_templatestyles_and_br_clear_inside_prose() -> None:
    text = 'First.<templatestyles src="Quote/styles.css" /> Second.<br clear="all">Third.'
    assert to_prose(text) == "First. Second.\nThird."


@pytest.mark.parametrize("link", ["[[Kategorija:Glazbenici]]", "[[Kategorie:Mathematiker]]", "[[分类:数学]]",
                                  "[[分類:數學]]", "[[Datei:Faust.jpg|mini|Goethe]]", "[[画像:A.jpg|thumb|200px|説明]]",
                                  "[[Категория:Литва]]", "[[Thể_loại:Toán học]]", "[[Catégorie:Ville]]",
                                  "[[Unknownns:Pic.png|thumb|left|A caption]]"])
def test_localised_file_and_category_links_vanish(link: str) -> None:
    assert to_prose(f"Text.\n{link}\n[[Category:English]]") == "Text."


def test_namespaces_from_the_dump_are_removed_like_english_ones() -> None:
    """``Flokkur``/``Mynd`` are Icelandic Wikipedia's names: unknown to the defaults, given by siteinfo."""
    text = "Texti.\n[[Mynd:Reykjavik.jpg|Höfnin]]\n[[Flokkur:Borgir]]"
    assert to_prose(text) == "Texti.\nHöfnin\nFlokkur:Borgir"
    options = WikitextOptions(file_namespaces=FILE_NAMESPACES | {"mynd"},
                              category_namespaces=CATEGORY_NAMESPACES | {"flokkur"})
    assert to_prose(text, options) == "Texti."


def test_visible_namespace_links_keep_their_title() -> None:
    assert to_prose("See [[:Category:Philosophers]] and [[:Kategorie:Stadt|cities]].") == "See Philosophers and cities."


@pytest.mark.parametrize("template, prose", [
    ("{{convert|-25|C|F}}", "-25 °C"), ("{{cvt|100|C}}", "100 °C"), ("{{convert|5|km|mi}}", "5 km"),
    ("{{Convert|45227|km2|sqmi|abbr=on}}", "45227 km²"), ("{{convert|1|-|2|km2|sqmi}}", "1–2 km²"),
    ("{{convert|10|to|20|mi|km}}", "10 to 20 mi"), ("{{convert|3|ft|6|in|m}}", "3 ft 6 in"),
    ("{{convert|5|mph|km/h}}", "5 mph"), ("{{convert|2.5|acre|ha}}", "2.5 acres"),
    ("{{convert/flip|30|m|ft}}", "30 m"), ("{{height|m=1.8}}", "1.8 m"), ("{{height|ft=6|in=2}}", "6 ft 2 in"),
    ("{{val|1.5|u=m}}", "1.5 m"),
])
def test_unit_templates_keep_their_unit(template: str, prose: str) -> None:
    assert to_prose(f"It was {template} away.") == f"It was {prose} away."


def test_removed_math_leaves_no_dangling_equals() -> None:
    text = ("The mean is computed as\n:<math>\\bar x = \\frac{1}{n}\\sum x_i</math>\nwhere:\n"
            ":<math>i</math> = index of the observation\n:<math>n</math> = total number of cases\n"
            "* <math>\\sigma</math> ≤ 1\nThe value <math>x</math>, as shown, is small.")
    out = to_prose(text)
    assert not any(line.lstrip().startswith(("=", "≤")) for line in out.split("\n")), out
    assert out == "The mean is computed as\nwhere:\nThe value, as shown, is small."
    assert to_prose("Here {{math|''x'' {{=}} 5}} and {{mvar|n}} hold.") == "Here x = 5 and n hold."
    assert to_prose("Intro.\n== The <math>x</math> case ==\nText.") == "Intro.\n\nThe case\nText."


def test_language_converter_shows_one_variant() -> None:
    text = "[[分形|-{zh-cn:分形;zh-tw:碎形}-]]是-{H|zh-cn:软件;zh-tw:軟體}-一种-{几何}-形状。"
    assert to_prose(text) == "分形是一种几何形状。"


@pytest.mark.parametrize("heading", ["Einzelnachweise", "Weblinks", "脚注", "外部リンク", "参考文献", "參見",
                                     "Примечания", "Liens externes", "Véase también"])
def test_reference_sections_go_under_their_localised_names(heading: str) -> None:
    text = f"Intro.\n== Geschichte ==\nAlt.\n== {heading} ==\n* [http://example.org Link]\n<references />\n"
    assert to_prose(text) == "Intro.\n\nGeschichte\nAlt."


def test_an_indented_table_goes_whole_even_rows_that_do_not_look_like_table_lines() -> None:
    """Rows such as "|[[a|b]] || c" (no space after the bar) are only removed as part of their table."""
    text = ":{| style=\"margin:auto\"\n| [[File:A.svg|96px]] || x\n|-\n|[[几何学|幾何]] || [[測度論]]\n|}\nAfter."
    assert to_prose("Before.\n" + text) == "Before.\n\nAfter."


@pytest.mark.parametrize("wikitext, prose", [
    ("{{仮リンク|ハンス・ミュラー|de|Hans Müller}}は画家。", "ハンス・ミュラーは画家。"),
    ("{{仮リンク|ミュラー|de|Hans Müller|label=H・ミュラー}}は画家。", "H・ミュラーは画家。"),
    ("{{Ruby|漢字|かんじ}}と{{語中改行|東京|大学}}", "漢字と東京大学"),
    ("{{le|約翰·史密斯|John Smith}}是作家。", "約翰·史密斯是作家。"),
    ("{{link-en|約翰|John|約翰·史密斯}}是作家。", "約翰·史密斯是作家。"),
    ("{{tsl|en|John Smith|約翰·史密斯}}是作家。", "約翰·史密斯是作家。"),
    ("Столица — {{langi|lt|Vilnius}}, {{число|2811000|человек}}.", "Столица — Vilnius, 2811000 человек."),
])
def test_templates_that_show_words_on_other_wikipedias(wikitext: str, prose: str) -> None:
    assert to_prose(wikitext) == prose


def test_a_line_left_with_only_punctuation_goes() -> None:
    assert to_prose("本文。\n<ref>出典</ref>。\n{{要出典}}.\n続き。") == "本文。\n続き。"


def test_block_level_tags_inside_a_line_break_it_instead_of_gluing_words() -> None:
    # enwiki "Art" and "Seaweed" (shared slice), and an HTML list: the tags went without a break, so the
    # quotation was glued to the sentence before it ("utility.\"Imitation", "Wales:This").
    wikitext = (
        "Art is an aspect of being human beyond utility.<blockquote>\"Imitation, then, is one instinct of our "
        "nature.\"</blockquote>\n"
        "George Owen writing of drift weed in South Wales:<blockquote>This kind of ore they often gather</blockquote>"
        "\n<ol><li>No animal shall wear clothes.</li><li>No animal shall sleep in a bed.</li></ol>\n"
        "First issued in 1977</center><center>York, Pennsylvania\n"
    )
    assert to_prose(wikitext).split("\n") == [
        "Art is an aspect of being human beyond utility.", "\"Imitation, then, is one instinct of our nature.\"",
        "George Owen writing of drift weed in South Wales:", "This kind of ore they often gather",
        "No animal shall wear clothes.", "No animal shall sleep in a bed.",
        "First issued in 1977", "York, Pennsylvania",
    ]


def test_block_tags_at_a_line_edge_add_no_blank_line() -> None:
    # "</li>\n<li>": the list stays one paragraph, as before the break (a guard, not a fix); a <blockquote> on
    # lines of its own is a paragraph of its own, as before.
    wikitext = "Commandments:\n<li>One.</li>\n<li>Two.</li>\n<blockquote>\nQuoted.\n</blockquote>\nAfter."
    assert to_prose(wikitext) == "Commandments:\nOne.\nTwo.\n\nQuoted.\n\nAfter."


def test_template_parameters_pasted_into_an_article_show_their_default() -> None:
    # Template code pasted into an article: MediaWiki shows "{{{1|default}}}" as its default; the brace pass
    # read "{{{" as a template and left a stray "}" in the sentence.
    assert to_prose("The river flows {{{direction|north}}} to the sea.") == "The river flows north to the sea."
    assert to_prose("A {{{1|{{{2|nested}}}}}} default, {{{3}}} none.") == "A nested default, none."
    assert to_prose("In French: {{lang|fr|{{{word|mot}}}}}.") == "In French: mot."


def test_rows_of_a_table_a_template_opens_are_dropped_like_the_table() -> None:
    # {{Election table}} emits the "{|" itself, so the rows after it are raw wikitext outside any "{|" we can
    # pair: lines that begin with "|" then a link or a number ("|[[A]] || 1990") were kept as text.
    wikitext = (
        "The party won the seat in 1990.\n{{Election table|title=Results}}\n|-\n! Party !! Votes\n|-\n"
        "|[[Labour Party (UK)|Labour]] || 21,312\n|-\n|'''Conservative''' || 18,004\n|12 || 3\n|}\n"
        "Turnout rose."
    )
    assert to_prose(wikitext) == "The party won the seat in 1990.\n\nTurnout rose."


def test_link_list_sections_of_wikipedias_nobody_tuned_on_are_dropped() -> None:
    # The end of bgwiki "Григориански календар" (gensim's test dump, bench/wiki_heldout.py): its "See also" and
    # "External links" kept their link lists, as the names were only known for ten other Wikipedias.
    wikitext = (
        "Григорианският календар е малко по-дълъг от реалното време.\n\n== Вижте също ==\n"
        "* [[Високосна година]]\n* [[Юлиански календар]]\n\n== Външни препратки ==\n"
        "* [http://www.example.org/kalender Kalendergenerator]\n\n== Източници ==\n<references />\n"
    )
    assert to_prose(wikitext) == "Григорианският календар е малко по-дълъг от реалното време."
    # the same in Swedish and Korean; a prose section of the same article stays
    assert to_prose("Text.\n== Historia ==\nMer text.\n== Se även ==\n* [[Kalender]]") == "Text.\n\nHistoria\nMer text."
    assert to_prose("본문.\n== 같이 보기 ==\n* [[달력]]\n== 외부 링크 ==\n* [http://x.org x]") == "본문."
