#!/usr/bin/env bash
# Create .bench-venv-datatrove/: datatrove and its word tokenizer (spaCy), isolated from .venv because
# datatrove pins versions that clash with ours (trafilatura<1.12, xxhash<4). Only the bench scripts use it
# (bench/filter_agreement.py, bench/filter_bench.py, bench/dedup_speed.py); the pipeline and its tests never import datatrove.
# Usage: bash bench/make_datatrove_venv.sh   (idempotent; rerun to repair)
#        VENV=DIR bash bench/make_datatrove_venv.sh   (another folder, e.g. a copy to try new packages in without
#        touching the one other runs use; the bench scripts read .bench-venv-datatrove, so link it there)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.bench-venv-datatrove}
PY=${PYTHON:-python3.11}
DATATROVE_VERSION=${DATATROVE_VERSION:-0.10.1}
SPACY_VERSION=${SPACY_VERSION:-3.8.7}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --upgrade pip
# processing: the filters' own dependencies; spaCy: the English word tokenizer of the Gopher filters
# (a blank pipeline that ships inside the package, so nothing is downloaded at run time).
# resiliparse + fastwarc: to extract the same texts from the WARCs as .venv does.
# jieba and spacy[ja] (SudachiPy + its core dictionary, about 200 MB installed): the word tokenizers datatrove
# assigns to Chinese (cmn_Hani: spaCy + jieba) and Japanese (jpn_Jpan: spaCy + Sudachi), for
# bench/multilingual_agreement.py (Sudachi pinned as in pyproject.toml, so both sides split alike); German (deu_Latn) is spaCy's own rules, in the spacy package.
# kiwipiepy + its model, pythainlp, indic-nlp-library: datatrove's KiwiTokenizer (kor_Hang), ThaiTokenizer (tha_Thai)
# and IndicNLPTokenizer (hin_Deva, pan_Guru, ...), pinned as in pyproject.toml (kiwipiepy 0.21: the last release
# whose default model files hold the "sbg" model KiwiTokenizer loads).
# khmer-nltk, laonlp, pyidaungsu-numpy2, botok: datatrove's KhmerTokenizer (khm_Khmr), LaoTokenizer (lao_Laoo),
# BurmeseTokenizer (mya_Mymr) and TibetanTokenizer (bod_Tibt), pinned as in pyproject.toml (botok loads its
# dictionary, the "general" dialect pack, from GitHub on first use: without it Tibetan cannot be measured).
# pyvi: spaCy's Vietnamese tokenizer (vie_Latn) calls its CRF; installed without its declared scikit-learn, which its
# tokenizer never imports (sklearn-crfsuite and python-crfsuite come with khmer-nltk).
"$VENV/bin/pip" install --quiet "datatrove[processing]==$DATATROVE_VERSION" "spacy[ja]==$SPACY_VERSION" jieba \
  "sudachipy>=0.7,<0.8" "sudachidict_core==20261015" \
  "kiwipiepy==0.21.0" "kiwipiepy_model==0.21.0" "pythainlp==5.4.0" "indic-nlp-library==0.92" \
  "khmer-nltk==1.6" "laonlp==1.3.0" "pyidaungsu-numpy2==0.1.4" "botok==1.1.7" \
  resiliparse fastwarc pyarrow faust-cchardet python-magic warcio orjson  # the last four: WarcReader and JsonlWriter (bench/datatrove_e2e.py)
"$VENV/bin/pip" install --quiet --no-deps "pyvi==0.1.1"
"$VENV/bin/python" - <<'PY'
from datatrove.pipeline.filters import GopherQualityFilter
from datatrove.utils.word_tokenizers import load_word_tokenizer
print("datatrove OK; English tokenizer:", load_word_tokenizer("en").word_tokenize("Hello, world.")[:3])
print("Chinese (jieba):", load_word_tokenizer("cmn_Hani").word_tokenize("我们去北京大学。"))
print("Japanese (Sudachi):", load_word_tokenizer("jpn_Jpan").word_tokenize("吾輩は猫である。"))
print("Korean (Kiwi):", load_word_tokenizer("kor_Hang").word_tokenize("나는 학교에 갔었다."))
print("Thai (PyThaiNLP):", load_word_tokenizer("tha_Thai").word_tokenize("มนุษย์ทั้งหลายเกิดมามีอิสระ"))
print("Hindi (Indic NLP):", load_word_tokenizer("hin_Deva").word_tokenize("सभी मनुष्यों को गौरव।"))
print("Khmer (khmer-nltk):", load_word_tokenizer("khm_Khmr").word_tokenize("មនុស្សទាំងអស់កើតមកមានសេរីភាព"))
print("Lao (LaoNLP):", load_word_tokenizer("lao_Laoo").word_tokenize("ພາສາລາວໃນປັດຈຸບັນ."))
print("Burmese (pyidaungsu):", load_word_tokenizer("mya_Mymr").word_tokenize("လူတိုင်းသည် တူညီ"))
print("Vietnamese (spaCy + pyvi):", load_word_tokenizer("vie_Latn").word_tokenize("Hà Nội là thủ đô của Việt Nam."))
PY
