"""training.classify_data, one test per finding of issue 16 about reading classification data: a TSV line
with an extra tab, a CSV line with a stray quote, a headerless CSV in text,label order, labels that are
typos or texts, lines split only at newlines, text that is not UTF-8. Each bad line is a counted skip that
names its file and line; no text is ever cut or merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.classify_data import Example, fix_labels, keep_known, read_examples
from training.finetune_common import SkipLedger


def sms_lines(shared_data: Path, n: int) -> list[str]:
    return (shared_data / "finetune" / "SMSSpamCollection").read_text(encoding="utf-8").split("\n")[:n]


def test_a_tsv_line_with_an_extra_tab_is_skipped_not_cut(tmp_path, shared_data):
    lines = sms_lines(shared_data, 50)
    lines[10] = lines[10] + "\tand a tail after a tab"
    path = tmp_path / "sms.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    examples, ledger = read_examples(path)
    assert len(examples) == 49 and ledger.total == 1
    assert ledger.examples["3 tab-separated fields where 2 are expected (a tab inside the text?)"] == [f"{path}:11"]
    by_line = {e.position: e.text for e in examples}
    assert f"{path}:11" not in by_line
    assert by_line[f"{path}:12"] == lines[11].split("\t", 1)[1]


def test_a_stray_quote_in_a_csv_skips_its_line_and_keeps_the_next(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('text,label\n"fine, quoted",ham\n"opens a quote and never closes it,spam\n'
                    'the next line,ham\n"doubled ""quotes"" are fine",spam\n', encoding="utf-8")
    examples, ledger = read_examples(path)
    assert [(e.text, e.label) for e in examples] == [("fine, quoted", "ham"), ("the next line", "ham"),
                                                     ('doubled "quotes" are fine', "spam")]
    (reason,) = ledger.counts
    assert reason.startswith("malformed CSV line") and ledger.examples[reason] == [f"{path}:3"]


def test_a_headerless_csv_in_text_label_order_is_read_the_right_way_round(tmp_path, shared_data):
    """The finding: 420 "classes", an empty test set and accuracy nan. The label column is told by its values."""
    rows = [line.split("\t", 1) for line in sms_lines(shared_data, 500) if line]
    path = tmp_path / "text_label.csv"
    path.write_text("".join(f'"{text.replace(chr(34), chr(34) * 2)}",{label}\n' for label, text in rows),
                    encoding="utf-8")
    said: list[str] = []
    examples, ledger = read_examples(path, log=said.append)
    assert ledger.total == 0 and len(examples) == 500
    assert {e.label for e in examples} == {"ham", "spam"} and examples[0].text == rows[0][1]
    assert "column 2 read as the label (2 distinct values), column 1 as the text" in said[0]
    forced, _ = read_examples(path, columns="label,text")  # told the wrong way round: every text a label ...
    with pytest.raises(ValueError, match="labels have fewer than 5 records.*--columns"):
        fix_labels(None, forced, 5, str(path))  # ... which the label check stops


def test_a_headerless_file_whose_columns_both_look_like_text_is_refused(tmp_path):
    path = tmp_path / "two_texts.tsv"
    path.write_text("".join(f"first text {i}\tsecond text {i}\n" for i in range(300)))
    with pytest.raises(ValueError, match="neither column looks like labels .*300 and 300 distinct.*--columns"):
        read_examples(path)


def test_header_names_the_columns_in_any_order_and_review_is_a_text_column(tmp_path, shared_data):
    """The shared Chinese hotel reviews: header `label,review`, 7,766 rows (one with an empty review), labels
    0 and 1, quoted fields with doubled quotes."""
    path = shared_data / "finetune" / "zh-chnsenticorp-htl-all.csv"
    examples, ledger = read_examples(path)
    assert len(examples) == 7765 and {e.label for e in examples} == {"0", "1"}
    assert ledger.counts == {"empty or non-text 'text'": 1}
    assert ledger.examples["empty or non-text 'text'"] == [f"{path}:6376"]
    assert examples[0].text.startswith("距离川沙公路较近") and '"蔡陆线"' in examples[0].text
    path = tmp_path / "h.tsv"
    path.write_text("id\tlabel\tsentence\n1\tpos\tgood\n2\tneg\tbad\textra\n")
    examples, ledger = read_examples(path)
    assert [(e.text, e.label) for e in examples] == [("good", "pos")] and ledger.total == 1


def test_lines_end_at_newlines_only_and_bad_utf8_is_skipped(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_bytes("ham\tone\x0ctwo\u2028three\r\nspam\tok\n".encode() + b"ham\tbad \xff byte\nspam\tlast")
    examples, ledger = read_examples(path)
    assert [(e.label, e.text) for e in examples] == [("ham", "one\x0ctwo\u2028three"), ("spam", "ok"),
                                                     ("spam", "last")]
    (reason,) = ledger.counts
    assert reason.startswith("not UTF-8") and ledger.examples[reason] == [f"{path}:3"]


def test_labels_are_fixed_by_the_training_file_or_the_labels_option(tmp_path):
    """The finding: an unknown label in the training split silently became a new class."""
    examples = [Example(f"t{i}", "ham" if i % 3 else "spam", f"f:{i}") for i in range(60)]
    typo = [*examples, Example("free prize", "spma", "f:60")]
    with pytest.raises(ValueError, match=r"1 of its 3 labels have fewer than 5 records: 'spma' x1 \(f:60\)"):
        fix_labels(None, typo, 5, "f")
    assert fix_labels(None, examples, 5, "f") == ["ham", "spam"]
    assert fix_labels(None, typo, 1, "f") == ["ham", "spam", "spma"]  # asked for: a class of one
    labels = fix_labels(["spam", "ham"], typo, 5, "f")  # the given order is the class order
    ledger = SkipLedger()
    assert labels == ["spam", "ham"] and len(keep_known(typo, labels, ledger)) == 60
    assert ledger.counts == {"unknown label 'spma'": 1} and ledger.examples["unknown label 'spma'"] == ["f:60"]
    with pytest.raises(ValueError, match=r"--labels names \['maybe'\], which no record of f has"):
        fix_labels(["ham", "maybe"], examples, 5, "f")
    with pytest.raises(ValueError, match="names a class twice"):
        fix_labels(["ham", "ham"], examples, 5, "f")
    with pytest.raises(ValueError, match="1 distinct label"):
        fix_labels(None, [e for e in examples if e.label == "ham"], 5, "f")
