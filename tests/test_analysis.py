"""Vietnamese analysis: normalization, tone placement, folding, segmentation, aligned views."""

import unicodedata

import pytest

from vnsearch import analysis, segmenter
from vnsearch.analysis import analyze, canonical_syllable, fold, has_diacritics, normalize, place_tone

# Expected/actual pairs: every spelling on the left must analyse like the one on the right.
SAME_TERMS = [
    ("Uỷ viên", "Ủy viên"),  # the seed page writes both in one article
    ("hoà bình", "hòa bình"),
    ("khoẻ mạnh", "khỏe mạnh"),
    ("thuỷ điện", "thủy điện"),
    ("Thuỷ", "THỦY"),
    ("kĩ thuật", "kỹ thuật"),
    ("lí do", "lý do"),
    (unicodedata.normalize("NFD", "Đắk Lắk"), "Đắk Lắk"),
    ("ke\u0323\u0302", "kệ"),  # half-decomposed: ẹ + combining circumflex
]


@pytest.mark.parametrize("variant,reference", SAME_TERMS)
def test_spelling_variants_give_identical_terms(variant, reference):
    a, b = analyze(variant), analyze(reference)
    assert a.syllables == b.syllables
    assert a.folded == b.folded


@pytest.mark.parametrize("old,new", [
    ("hòa", "hoà"), ("Hòa", "Hoà"), ("khỏe", "khoẻ"), ("thủy", "thuỷ"), ("Ủy", "Uỷ"),
    ("tòa", "toà"), ("họa", "hoạ"),
])
def test_old_style_tone_marks_move_to_new_style(old, new):
    assert place_tone(old) == new


@pytest.mark.parametrize("syllable", [
    "hoàng", "toán", "người", "quý", "giá", "gìn", "của", "mùa", "tuổi", "khuyến", "ngoài", "Việt", "đường",
])
def test_correct_tone_placement_is_left_alone(syllable):
    assert place_tone(syllable) == syllable


def test_non_vietnamese_words_are_left_alone():
    assert normalize("Zürich café naïve") == "Zürich café naïve"


def test_normalize_is_nfc_and_control_characters_never_glue_words():
    text = normalize(unicodedata.normalize("NFD", "Hà\u200b Nội\x0bMưa\x85lớn\x07"))
    assert text == "Hà Nội Mưa lớn"
    assert unicodedata.is_normalized("NFC", text)
    assert analyze("Nội\x0bMưa").syllables == ["nội", "mưa"]


@pytest.mark.parametrize("text,folded", [
    ("Đảng", "dang"), ("Công_Thương", "cong_thuong"), ("Bí thư Tỉnh ủy", "bi thu tinh uy"), ("Đắk Lắk", "dak lak"),
])
def test_fold_strips_diacritics_and_d_stroke(text, folded):
    assert fold(text) == folded


def test_i_and_y_after_a_consonant_are_one_syllable():
    assert canonical_syllable("kỹ") == canonical_syllable("kĩ") == "kĩ"
    assert canonical_syllable("Mỹ") == "mĩ"
    assert canonical_syllable("thuỷ") == "thuỷ"  # "uy" is a rhyme, not an i/y spelling
    assert canonical_syllable("yêu") == "yêu"


def test_has_diacritics_tells_whether_the_user_typed_accents():
    assert has_diacritics("Công Thương")
    assert has_diacritics("dđ")
    assert not has_diacritics("cong thuong")


def test_pyvi_segments_case_preserved_text_then_lowercases():
    # From the seed page: "lãnh đạo Sở Công Thương"
    words = analysis.segment_words(normalize("đã làm việc với lãnh đạo Sở Công Thương"))
    assert "công_thương" in words
    assert "lãnh_đạo" in words
    assert "làm_việc" in words


def test_fast_segmenter_matches_pyvi_exactly():
    from pyvi import ViTokenizer  # the slow original, for comparison only

    sentences = [
        "Đồng chí Ngô Văn Tuấn, Uỷ viên BCH T.Ư Đảng, Bí thư Tỉnh ủy phát biểu kết luận buổi làm việc.",
        "Năm 2020, giá trị sản xuất công nghiệp tăng 15% so với năm 2019; kim ngạch xuất khẩu tăng 31,72%.",
        "Chất lượng điện cung cấp cho sản xuất, nhất là ở các khu, CCN chưa ổn định...",
    ]
    for sentence in sentences:
        assert segmenter.segment(sentence) == ViTokenizer.tokenize(sentence).split()


def test_views_are_aligned_position_for_position():
    a = analyze("Bí thư Tỉnh ủy làm việc với Sở Công Thương")
    assert len(a.syllables) == len(a.folded)
    assert a.folded == ["bi", "thu", "tinh", "uy", "lam", "viec", "voi", "so", "cong", "thuong"]
    positions = dict((w, p) for p, w in a.compounds)
    assert a.syllables[positions["công_thương"]] == "công"
    assert a.syllables[positions["bí_thư"]] == "bí"


def test_positional_terms_put_compounds_beside_their_first_syllable():
    assert analyze("Sở Công Thương").positional_terms() == "so cong/cong_thuong thuong"


def test_unaccented_text_cannot_be_segmented_so_queries_skip_pyvi():
    a = analyze("cong thuong hoa binh", segment=False)
    assert a.compounds == []
    assert a.folded == ["cong", "thuong", "hoa", "binh"]


def test_segmenter_loads_without_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; from vnsearch import segmenter; segmenter.segment('Hà Nội');"
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
