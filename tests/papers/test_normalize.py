"""Scraped values become clean plain text: canonical ids, collapsed wraps, safe URLs."""

import pytest

from papers.normalize import InvalidArxivId, canonical_arxiv_id, clean_count, clean_text, clean_url


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("2407.21783", "2407.21783"),
        ("2407.21783v3", "2407.21783"),
        (" arXiv:2407.21783v1 ", "2407.21783"),
        ("https://arxiv.org/abs/2407.21783v2", "2407.21783"),
        ("https://arxiv.org/pdf/2407.21783.pdf", "2407.21783"),
        ("1412.6980", "1412.6980"),
        ("0704.0001", "0704.0001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("solv-int/9901001", "solv-int/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
    ],
)
def test_arxiv_ids_are_canonical(raw, canonical):
    assert canonical_arxiv_id(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "2407.2178",
        "2407.217834",
        "2413.21783",
        "1412.69801",
        "1501.6980",
        "0612.0001",
        "papers",
        None,
        2407.21783,
        "2407.21783/../x",
        "../../etc/passwd",
    ],
)
def test_anything_else_is_refused(raw):
    with pytest.raises(InvalidArxivId):
        canonical_arxiv_id(raw)


def test_text_loses_hard_wraps_and_control_characters_but_keeps_latex():
    assert (
        clean_text("ProRL: Prolonged\n  Reinforcement\tLearning\x00 ")
        == "ProRL: Prolonged Reinforcement Learning"
    )
    assert clean_text("a 54.6\\% speedup with $\\nabla^2$DFT") == "a 54.6\\% speedup with $\\nabla^2$DFT"
    assert clean_text("Tom &amp; Jerry") == "Tom &amp; Jerry"  # entities were decoded once, upstream
    assert clean_text(None) == clean_text(42) == ""


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("https://github.com/org/repo", "https://github.com/org/repo"),
        ("/avatars/x.svg", "https://huggingface.co/avatars/x.svg"),
        ("javascript:alert(1)", ""),
        ("data:text/html,<script>", ""),
        ("ftp://example.com/x", ""),
        ("https://example.com/" + "x" * 600, ""),
        ("https://exa mple.com", ""),
        (None, ""),
    ],
)
def test_only_http_urls_are_kept(raw, clean):
    assert clean_url(raw) == clean


def test_counts_are_non_negative_integers():
    assert [clean_count(v) for v in (5, -3, "12", "x", None, True, 1.5, 2**40)] == [
        5,
        0,
        12,
        0,
        0,
        0,
        0,
        2**31 - 1,
    ]
