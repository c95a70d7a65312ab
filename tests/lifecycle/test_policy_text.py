"""The rule catalogue against the policy text: every quote word for word,
every sentence of the policy mapped to rules or to a note."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chronic_na.lifecycle import DEFAULT_TABLE
from chronic_na.rules import CATALOGUE, POLICY_SENTENCES, Severity, Source, split_sentences

DATA = Path(__file__).parent.parent / "data" / "policy"
SHARED = Path(__file__).resolve().parents[3] / "shared"
POLICY = (DATA / "top-tips-chronic-non-attendance-2018.txt").read_text(encoding="utf-8")
DOMAIN = (DATA / "domain.md").read_text(encoding="utf-8")


def _plain(markdown: str) -> str:
    """domain.md without emphasis markers and with lines joined, for quoting."""
    text = markdown.replace("**", "").replace("`", "")
    return re.sub(r"\s+", " ", text)


def test_policy_copy_matches_shared_when_present() -> None:
    """tests/data holds the shared policy text unchanged (checked where shared/ is beside us)."""
    shared = SHARED / "policy" / "top-tips-chronic-non-attendance-2018.txt"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert shared.read_text(encoding="utf-8") == POLICY


@pytest.mark.parametrize("rule", list(CATALOGUE.values()), ids=lambda r: r.id)
def test_quote_appears_word_for_word(rule: object) -> None:
    """Each rule's quote is in its source: the policy text, or domain.md for national/design."""
    from chronic_na.rules import Rule

    assert isinstance(rule, Rule)
    if rule.source is Source.POLICY:
        assert rule.quote in POLICY
    else:
        assert rule.quote in _plain(DOMAIN)


def test_every_policy_sentence_is_mapped() -> None:
    """Every sentence of the policy maps to rule ids or to a note saying why none."""
    sentences = split_sentences(POLICY)
    assert len(sentences) >= 25
    unmapped = [s for s in sentences if s not in POLICY_SENTENCES]
    assert unmapped == []
    for sentence in sentences:
        mapping = POLICY_SENTENCES[sentence]
        assert mapping.rule_ids or mapping.note, sentence
        for rule_id in mapping.rule_ids:
            assert rule_id in CATALOGUE


def test_no_stale_mappings() -> None:
    """Every mapped sentence still exists in the policy."""
    assert set(POLICY_SENTENCES) <= set(split_sentences(POLICY))


def test_every_rule_is_used() -> None:
    """Every refuse/warn rule guards a command in the table; every deadline rule is computed."""
    used = {r for t in DEFAULT_TABLE.transitions for r in t.rules}
    for rule in CATALOGUE.values():
        if rule.severity is Severity.DEADLINE:
            assert rule.id not in used
        else:
            assert rule.id in used, rule.id


def test_split_keeps_abbreviations_whole() -> None:
    """'e.g. separation anxiety' is not split into two sentences."""
    assert split_sentences("Factors; e.g. separation anxiety. Next one.") == [
        "Factors; e.g. separation anxiety.",
        "Next one.",
    ]
