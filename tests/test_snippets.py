"""Snippets: the window of a body that shows the most query words, with those words marked.

The snippet finds matches with one pattern over the whole text (see
``vnsearch.analysis.folding_pattern``); these tests hold it to the plain rule, applied
syllable by syllable, on texts written for them.
"""

import bisect
import dataclasses
import html
import random

import pytest

from vnsearch import analysis
from vnsearch.search import snippets
from vnsearch.search.results import Hit


def plain_snippet(text: str, terms: set[str], width: int = 36) -> str:
    """The rule itself: every syllable's canonical and folded forms, every window tried."""
    text = text.replace("\n", " ")
    spans = analysis.syllable_spans(text)
    if not spans:
        return html.escape(text[:200])
    canonical = [analysis.canonical_syllable(analysis.place_tone(text[a:b])) for a, b in spans]
    forms = [(s, analysis.fold(s)) for s in canonical]
    marked = [f in terms or s in terms for s, f in forms]
    where = [i for i, m in enumerate(marked) if m]
    start, best = 0, -1
    for i in where[:200]:
        lo = max(0, i - 4)
        inside = where[bisect.bisect_left(where, lo):bisect.bisect_left(where, lo + width)]
        score = 1000 * len({forms[j][1] for j in inside}) + len(inside)
        if score > best:
            start, best = lo, score
    end = min(len(spans), start + width)
    lo, hi = spans[start][0], (spans[end - 1][1] if end < len(spans) else len(text))
    out, cursor = [], lo
    for i in range(start, end):
        if marked[i]:
            a, b = spans[i]
            out += [html.escape(text[cursor:a]), f"<mark>{html.escape(text[a:b])}</mark>"]
            cursor = b
    out.append(html.escape(text[cursor:hi]))
    return ("… " if lo else "") + "".join(out).strip() + (" …" if hi < len(text) else "")


WORDS = ("Sở Công Thương tỉnh Hoà Bình Hòa thủy thuỷ điện kỹ kĩ sư lúa lửa lựa mới giá "
         "UBND TP.HCM vắc-xin vaccine Covid-19 năm 2021 Quý quí y tế Mỹ mĩ ĐẮK LẮK "
         "Москва Moskva Straße strasse 北京 café Zürich a ơ ở ồ , . — … “ ” ( ) 50% x_y").split()


def test_matches_the_rule_on_many_mixed_texts():
    rng = random.Random(5)
    queries = [{"cong", "thuong"}, {"hoa", "binh"}, {"thuỷ", "điện"}, {"ki", "su"}, {"kĩ"},
               {"lúa"}, {"lua"}, {"moskva"}, {"strasse"}, {"zurich"}, {"a", "o"}, {"2021", "covid"},
               {"qui"}, {"quí"}, {"mĩ"}, {"y", "te"}, {"dak", "lak"}, {"ubnd"}, {"x"}, set(),
               # a long query (more words than a pattern holds): every syllable is read
               {"so", "cong", "thuong", "tinh", "hoa", "binh", "thuỷ", "dien", "ki", "su", "lúa", "moi", "gia", "nam"}]
    compared = 0
    for length in (3, 40, 120, 600):
        for _ in range(25):
            text = " ".join(rng.choice(WORDS) for _ in range(length))
            for terms in rng.sample(queries, 5):
                for width in (2, 12, 36):
                    assert snippets.snippet(text, terms, width) == plain_snippet(text, terms, width), (text, terms)
                    compared += 1
    assert compared == 1500


def test_matches_far_apart_do_not_share_a_window():
    filler = " ".join(["người dân"] * 60)
    text = f"Công nhân {filler} công thương {filler} Sở Công Thương tỉnh {filler} thương binh"
    got = snippets.snippet(text, {"cong", "thuong"})
    assert got == plain_snippet(text, {"cong", "thuong"})
    assert "<mark>Công</mark> <mark>Thương</mark> tỉnh" in got or "<mark>công</mark> <mark>thương</mark>" in got
    assert got.count("<mark>") == 2


def test_accented_term_marks_its_spelling_only_whatever_the_tone_placement():
    text = "Nhà máy thủy điện Hoà Bình; thuỷ điện Sơn La; thúy đến thăm."
    assert snippets.snippet(text, {"thuỷ"}) == ("Nhà máy <mark>thủy</mark> điện Hoà Bình; "
                                               "<mark>thuỷ</mark> điện Sơn La; thúy đến thăm.")


def test_i_and_y_after_a_consonant_are_one_syllable():
    text = "Kỹ sư Mỹ và kĩ sư mĩ thuật."
    assert snippets.snippet(text, {"ki"}) == "<mark>Kỹ</mark> sư Mỹ và <mark>kĩ</mark> sư mĩ thuật."
    assert snippets.snippet(text, {"mĩ"}) == "Kỹ sư <mark>Mỹ</mark> và kĩ sư <mark>mĩ</mark> thuật."


def test_a_letter_that_folds_to_several_still_finds_its_word():
    # "ß" folds to "ss" and "北京" to "bei jing": the text is then read syllable by syllable.
    assert snippets.snippet("Phố Straße ở Đức, strasse viết thường.", {"strasse"}) == (
        "Phố <mark>Straße</mark> ở Đức, <mark>strasse</mark> viết thường.")
    assert snippets.snippet("Thủ đô Москва và 北京.", {"moskva"}) == "Thủ đô <mark>Москва</mark> và 北京."


def test_no_match_shows_the_beginning_and_markup_is_escaped():
    text = "Giá lúa & gạo <b>tăng</b> " + " ".join(["mạnh"] * 50)
    got = snippets.snippet(text, {"covid"})
    assert got.startswith("Giá lúa &amp; gạo &lt;b&gt;tăng&lt;/b&gt; mạnh") and got.endswith(" …")
    assert snippets.snippet("… — …", {"lua"}) == "… — …"


@pytest.mark.parametrize("folded, written, expected", [
    ({"hoa"}, "Hoà hòa HOẠ hoài thoa", ["Hoà", "hòa", "HOẠ"]),
    ({"ki"}, "kỹ kĩ KỸ ky kia", ["kỹ", "kĩ", "KỸ", "ky"]),
    ({"cong"}, "công_thương cổng cồng công", ["công", "cổng", "cồng", "công"]),
])
def test_folding_pattern_finds_whole_syllables_in_every_spelling(folded, written, expected):
    pattern = analysis.folding_pattern(folded)
    assert [m.group() for m in pattern.finditer(written)] == expected


def test_a_hit_serves_every_field():
    hit = Hit(id="a", title="Hà Nội", url="/a", date="2021-04-12", category="Xã hội", author="Lê Thu",
              source="Dân Trí", score=1.5, snippet="<mark>Hà</mark>")
    assert hit.to_dict() == dataclasses.asdict(hit)
