"""Span convention: half-open code-point offsets whose text is exactly the article's."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas import Span

TEXT = "Putin said “legitimate targets” 🙂\r\nnext\u00a0line"


def test_span_on_its_text_is_accepted():
    span = Span.of(TEXT, 11, 30)
    assert span.text == "“legitimate targets"
    span.check_in(TEXT, "here")


def test_astral_character_counts_as_one_code_point():
    start = TEXT.index("🙂")
    span = Span.of(TEXT, start, start + 1)
    assert span.text == "🙂"
    span.check_in(TEXT, "emoji")


@pytest.mark.parametrize(
    ("start", "end", "text", "message"),
    [
        (5, 5, "x", "empty or reversed"),
        (6, 5, "x", "empty or reversed"),
        (0, 3, "ab", "covers 3 code points but its text has 2"),
        (-1, 2, "abc", "greater than or equal to 0"),
        (0, 1, "", "at least 1 character"),
    ],
)
def test_malformed_span_is_rejected(start, end, text, message):
    with pytest.raises(ValidationError, match=message):
        Span(start=start, end=end, text=text)


def test_span_text_must_match_the_article():
    with pytest.raises(ValueError, match=r"quote 'q1': span \[0, 5\) says 'Pudin' but the article has 'Putin'"):
        Span(start=0, end=5, text="Pudin").check_in(TEXT, "quote 'q1'")


def test_span_past_the_end_is_rejected():
    with pytest.raises(ValueError, match="ends past the article's"):
        Span(start=len(TEXT) - 1, end=len(TEXT) + 1, text="ex").check_in(TEXT, "claim 'c1'")


texts = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=80)


@given(texts, st.data())
def test_every_slice_of_a_text_is_a_valid_span(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    span = Span.of(text, start, end)
    span.check_in(text, "slice")
    assert text[span.start : span.end] == span.text


@given(texts, st.data())
def test_a_shifted_span_is_caught_unless_the_text_repeats(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    shift = data.draw(st.integers(1, 3))
    span = Span.of(text, start, end)
    moved = Span(start=start + shift, end=end + shift, text=span.text)
    if end + shift > len(text) or text[start + shift : end + shift] != span.text:
        with pytest.raises(ValueError, match="slice"):
            moved.check_in(text, "slice")
    else:
        moved.check_in(text, "slice")
