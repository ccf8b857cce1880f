"""Offset repair: Label Studio offsets that disagree with the text are fixed only when one place fits."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from annotate.labelstudio.repair import OffsetError, OffsetResolver
from schemas import Span, ToolkitError

PIECES = ["a", "b", "ab", "Putin", " ", ".", "\n", "\r\n", "\u00a0", "😀", "🇺🇦", "é", "“"]


def utf16(text: str, offset: int) -> int:
    return len(text[:offset].encode("utf-16-le")) // 2


def crlf_as_one(text: str, offset: int) -> int:
    return len(text[:offset].replace("\r\n", "\n"))


def loose(s: str) -> str:
    return " ".join(s.split())


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while text[start].isspace():
        start += 1
    while text[end - 1].isspace():
        end -= 1
    return start, end


def loose_places(text: str, covered: str) -> set[tuple[int, int]]:
    """Brute force, independent of the implementation: every stretch with the same words."""
    want = loose(covered)
    return {(i, j) for i in range(len(text)) for j in range(i + 1, len(text) + 1)
            if not text[i].isspace() and not text[j - 1].isspace() and loose(text[i:j]) == want}


def exact_places(text: str, covered: str) -> int:
    return sum(text.startswith(covered, i) for i in range(len(text)))


# ---------------------------------------------------------------- examples


def test_offsets_that_cover_the_text_are_kept_without_a_repair():
    text = "Putin said 🙂 “no”."
    span, repair = OffsetResolver(text).locate("r1", 13, 17, "“no”")
    assert span == Span(start=13, end=17, text="“no”") and repair is None


def test_utf16_offsets_after_an_emoji_are_remapped():
    text = "🙂 Putin said 🙂 no."
    start = text.index("said")
    span, repair = OffsetResolver(text).locate("r1", utf16(text, start), utf16(text, start) + 4, "said")
    assert (span.start, span.end, span.text) == (start, start + 4, "said")
    assert repair.region_id == "r1" and repair.old == (start + 1, start + 5) and repair.new == (start, start + 4)
    assert "UTF-16 code units" in repair.reason


def test_crlf_counted_as_one_is_remapped():
    text = "Line one\r\nLine two\r\nPutin said no."
    start = text.index("Putin")
    span, repair = OffsetResolver(text).locate("r1", start - 2, start + 3, "Putin")
    assert (span.start, span.end) == (start, start + 5)
    assert repair.old == (start - 2, start + 3) and "CRLF line end as one character" in repair.reason


def test_crlf_and_utf16_reading_used_when_only_it_fits():
    # "ab" occurs 4 times close together, so only the combined reading can tell which is meant.
    text = "😀😀😀\r\nab  ab  ab  ab"
    start = text.index("ab", 6)
    units = utf16(text.replace("\r\n", "\n"), crlf_as_one(text, start))
    assert units == start + 3 - 1
    span, repair = OffsetResolver(text).locate("r1", units, units + 2, "ab")
    assert (span.start, span.end) == (start, start + 2)
    assert "UTF-16 code units with each CRLF line end as one character" in repair.reason


def test_whitespace_difference_keeps_the_offsets_and_takes_the_article_text():
    text = "Putin said\u00a0no to troops."
    span, repair = OffsetResolver(text).locate("r1", 6, 13, "said no")
    assert span.text == "said\u00a0no" and (span.start, span.end) == (6, 13)
    assert repair.old == repair.new == (6, 13) and "only in whitespace" in repair.reason


def test_crlf_text_given_with_lf_is_found():
    text = "He said:\r\n“We will not\r\naccept it.”"
    start = text.index("We")
    covered = text[start:-1].replace("\r\n", "\n")
    span, repair = OffsetResolver(text).locate("r1", crlf_as_one(text, start), crlf_as_one(text, len(text) - 1),
                                                covered)
    assert span.text == text[start:-1]
    assert repair.new == (start, len(text) - 1)


def test_text_occurring_once_is_found_whatever_the_offsets():
    text = "Macron said yes. Putin said no."
    span, repair = OffsetResolver(text).locate("r1", 0, 5, "Putin")
    assert (span.start, span.end) == (17, 22)
    assert repair.old == (0, 5) and "occurs exactly once in the article" in repair.reason


def test_text_occurring_often_is_found_when_once_near_the_offsets():
    text = "no. " + "x" * 200 + " no. " + "y" * 200 + " no."
    second = text.index("no", 10)
    span, repair = OffsetResolver(text).locate("r1", second + 3, second + 5, "no")
    assert span.start == second
    assert "occurs 3 times in the article but once within 64 characters" in repair.reason


def test_ambiguous_text_is_rejected_with_a_precise_error():
    text = "no, no, no and no."
    with pytest.raises(OffsetError, match=r"region 'r1': offsets \[30, 32\) cover '' but the region says 'no', "
                                          r"which occurs 4 times \(4 within 64 characters of the offsets\); "
                                          r"cannot tell which place is meant: redraw the region"):
        OffsetResolver(text).locate("r1", 30, 32, "no")


def test_text_not_in_the_article_is_rejected():
    with pytest.raises(OffsetError, match=r"offsets \[0, 5\) cover 'Putin' but the region says 'Pudin', which does "
                                          "not occur in the article"):
        OffsetResolver("Putin said no.").locate("r1", 0, 5, "Pudin")


def test_whitespace_only_region_with_wrong_offsets_is_rejected():
    with pytest.raises(OffsetError, match="a text of only whitespace cannot be searched for"):
        OffsetResolver("Putin said no.").locate("r1", 0, 2, "  ")


def test_readings_that_disagree_are_rejected():
    # UTF-16 reads unit 4 as code point 3, CRLF-as-one as code point 5: both are "x".
    text = "😀\r\nxyx"
    with pytest.raises(OffsetError, match=r"offsets \[4, 5\) with text 'x' fit several places \(\[3, 4\), \[5, 6\)\)"):
        OffsetResolver(text).locate("r1", 4, 5, "x")


def test_offset_error_is_a_toolkit_error():
    assert issubclass(OffsetError, ToolkitError)


# ---------------------------------------------------------------- properties

texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=40).map("".join)


@st.composite
def text_and_span(draw) -> tuple[str, Span]:
    text = draw(texts)
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    return text, Span.of(text, start, end)


def outside_crlf(text: str, offset: int) -> bool:
    return not (0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n")


@given(text_and_span())
def test_offsets_that_fit_are_never_changed(case):
    text, span = case
    assert OffsetResolver(text).locate("r", span.start, span.end, span.text) == (span, None)


@given(text_and_span())
def test_utf16_offsets_find_the_span_when_its_text_is_unique(case):
    text, span = case
    start, end = utf16(text, span.start), utf16(text, span.end)
    try:
        found, repair = OffsetResolver(text).locate("r", start, end, span.text)
    except OffsetError:
        assert exact_places(text, span.text) > 1
        return
    assert found.text == span.text
    if exact_places(text, span.text) == 1:
        assert found == span
        assert (repair is None) == ((start, end) == (span.start, span.end))


@given(text_and_span())
def test_crlf_as_one_offsets_with_lf_text_find_the_words_when_unique(case):
    text, span = case
    assume(outside_crlf(text, span.start) and outside_crlf(text, span.end) and span.text.strip())
    covered = span.text.replace("\r\n", "\n")
    start, end = crlf_as_one(text, span.start), crlf_as_one(text, span.end)
    try:
        found, _ = OffsetResolver(text).locate("r", start, end, covered)
    except OffsetError:
        assert len(loose_places(text, covered)) > 1
        return
    assert loose(found.text) == loose(covered)
    if len(loose_places(text, covered)) == 1:
        assert trimmed(text, found.start, found.end) == trimmed(text, span.start, span.end)


@given(text_and_span(), st.integers(-5, 100), st.integers(0, 20))
def test_any_offsets_give_the_same_words_or_an_error(case, start, length):
    text, span = case
    assume(span.text.strip())
    try:
        found, repair = OffsetResolver(text).locate("r", start, start + length, span.text)
    except OffsetError as e:
        assert "region 'r'" in str(e)
        assert len(loose_places(text, span.text)) != 1
        return
    found.check_in(text, "found")
    assert loose(found.text) == loose(span.text)
    if (start, start + length) != (found.start, found.end) or found.text != span.text:
        assert repair is not None and repair.old == (start, start + length) and repair.new == (found.start, found.end)
    if len(loose_places(text, span.text)) == 1:
        assert trimmed(text, found.start, found.end) == trimmed(text, span.start, span.end)
