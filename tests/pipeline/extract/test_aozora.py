"""Aozora Bunko format: ruby, ruby start marks, editorial notes and colophon removed; title and author kept.

shared/data holds no Aozora file, so the text below is written in the format (the opening of Natsume
Soseki's public-domain novel, with the markup Aozora's own files use).
"""

from __future__ import annotations

from pipeline.extract.aozora import is_aozora, split_aozora, strip_markup
from pipeline.readers import get_reader, reader_module
from contracts.accounting import Tally
from pipeline.readers.base import Split

AOZORA = """吾輩は猫である
夏目漱石

-------------------------------------------------------
【テキスト中に現れる記号について】

《》：ルビ
（例）吾輩《わがはい》

｜：ルビの付く文字列の始まりを特定する記号
（例）一番｜獰悪《どうあく》な種族

［＃］：入力者注　主に外字の説明や、傍点の位置の指定
-------------------------------------------------------

［＃８字下げ］一［＃「一」は中見出し］

　吾輩《わがはい》は猫である。名前はまだ無い。
　どこで生れたかとんと見当《けんとう》がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。
　しかもあとで聞くとそれは書生という人間中で一番｜獰悪《どうあく》な種族であったそうだ。



底本：「夏目漱石全集１」ちくま文庫、筑摩書房
入力：例
校正：例
"""


def test_markup_and_colophon_are_removed_and_the_head_gives_title_and_author():
    assert is_aozora(AOZORA)
    book = split_aozora(AOZORA)
    assert (book.title, book.author, book.language) == ("吾輩は猫である", "夏目漱石", "ja")
    for mark in ("《", "》", "｜", "［＃", "底本", "テキスト中に現れる記号", "----"):
        assert mark not in book.body
    assert book.body.startswith("一\n\n　吾輩は猫である。名前はまだ無い。")
    assert "一番獰悪な種族であったそうだ。" in book.body
    assert "見当がつかぬ" in book.body


def test_strip_markup_keeps_plain_text():
    assert strip_markup("普通の文章です。") == "普通の文章です。"
    assert strip_markup("｜青空文庫《あおぞらぶんこ》［＃「青空文庫」に傍点］") == "青空文庫"
    assert not is_aozora("A book with 《guillemets》 used as quotation marks.")


def test_the_books_reader_reads_a_shift_jis_aozora_file(tmp_path):
    path = tmp_path / "wagahaiwa_nekodearu.txt"
    path.write_bytes(AOZORA.replace("\n", "\r\n").encode("cp932"))
    tally = Tally()
    [doc] = get_reader("books").read(Split(str(path)), reader_module("books").Options(), tally)
    assert (doc.title, doc.meta["author"], doc.meta["language"], doc.meta["charset"]) == (
        "吾輩は猫である", "夏目漱石", "ja", "shift_jis")
    assert "《" not in doc.text and doc.text.count("吾輩は猫である。") == 1
    assert tally.counts["books.aozora_stripped"] == 1


def test_the_books_reader_reads_an_aozora_zip(tmp_path):
    # Aozora Bunko hands out each text as a zip: the Shift_JIS .txt, sometimes with its illustrations
    import zipfile

    path = tmp_path / "789_ruby_5639.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("wagahaiwa_nekodearu.txt", AOZORA.replace("\n", "\r\n").encode("cp932"))
        archive.writestr("fig01.png", b"\x89PNG\r\n\x1a\n not a text")
    tally = Tally()
    (doc,) = get_reader("books").read(Split(str(path)), reader_module("books").Options(), tally)
    assert doc.key == "789_ruby_5639.zip/wagahaiwa_nekodearu.txt" and doc.meta["charset"] == "shift_jis"
    assert (doc.title, doc.meta["author"], doc.meta["language"]) == ("吾輩は猫である", "夏目漱石", "ja")
    assert "《" not in doc.text and "名前はまだ無い" in doc.text
    assert tally.counts["books.zip_members_skipped"] == 1 and tally.counts["books.aozora_stripped"] == 1
