"""Evaluation metrics on hand-made rankings, normalisation, and the questions-file format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.evaluation import (
    EvalFileError,
    EvalQuestion,
    evaluate,
    first_hit,
    load_questions,
    percentile,
)
from bot.models import Passage
from bot.text import normalise


def passage(text: str, pid: str = "p") -> Passage:
    return Passage(id=pid, doc_id="d", title="T", author=None, url=None, section="", text=text)


def test_normalise_folds_case_quotes_dashes_and_spaces() -> None:
    assert (
        normalise("  My goal was to “Get\n into  SERIMATS”  ")
        == 'my goal was to "get into serimats"'
    )
    assert normalise("it’s ‘fine’ — really – ok") == "it's 'fine' - really - ok"
    assert normalise("A\u00a0B\tC") == "a b c"


def test_gold_phrase_matches_across_quote_styles_and_line_breaks() -> None:
    ranked = [passage("nothing here"), passage("My goal was to “get into\nSERIMATS”, when")]
    assert first_hit(ranked, ['my goal was to "get into SERIMATS"']) == 2
    assert first_hit(ranked, ["not present"]) is None
    assert first_hit([], ["x"]) is None


def fake_search(rankings: dict[str, list[Passage]]):
    def search(query: str, k: int) -> Sequence[Passage]:
        return rankings[query][:k]

    return search


def test_metrics_on_hand_made_rankings() -> None:
    gold = passage("the GOLD phrase", "g")
    other = passage("x" * 10, "o")  # 10 chars
    rankings = {
        "first": [gold, other],  # rank 1
        "third": [other, other, gold],  # rank 3
        "fifth": [other, other, other, other, gold],  # rank 5
        "tenth": [other] * 9 + [gold],  # rank 10
        "never": [other] * 12,  # no hit (and k_max caps what is read)
    }
    questions = [EvalQuestion(q=q, gold=("gold phrase",)) for q in rankings]
    report = evaluate(fake_search(rankings), questions, k_max=10)
    assert report.n == 5
    assert report.hit_at_1 == pytest.approx(1 / 5)
    assert report.hit_at_3 == pytest.approx(2 / 5)
    assert report.hit_at_5 == pytest.approx(3 / 5)
    assert report.hit_at_10 == pytest.approx(4 / 5)
    assert report.mrr_at_10 == pytest.approx((1 + 1 / 3 + 1 / 5 + 1 / 10) / 5)
    texts = [p.text for q in rankings for p in rankings[q][:10]]
    assert report.mean_passage_chars == pytest.approx(sum(map(len, texts)) / len(texts))
    assert [r.rank for r in report.results] == [1, 3, 5, 10, None]
    assert report.p95_ms >= report.p50_ms >= 0


def test_hit_beyond_k_max_does_not_count() -> None:
    gold = passage("gold", "g")
    rankings = {"late": [passage("x")] * 10 + [gold]}
    report = evaluate(fake_search(rankings), [EvalQuestion("late", ("gold",))], k_max=10)
    assert report.hit_at_5 == report.hit_at_10 == report.mrr_at_10 == 0


def test_to_json_has_exactly_the_documented_keys() -> None:
    rankings = {"q": [passage("gold")]}
    data = evaluate(fake_search(rankings), [EvalQuestion("q", ("gold",))]).to_json()
    assert list(data) == [
        "hit_at_1",
        "hit_at_3",
        "hit_at_5",
        "hit_at_10",
        "mrr_at_10",
        "mean_passage_chars",
        "p50_ms",
        "p95_ms",
        "n",
    ]
    assert data["hit_at_1"] == 1.0 and data["n"] == 1


def test_format_text_shows_metrics_and_misses() -> None:
    rankings = {"found": [passage("gold")], "lost": [passage("nope")]}
    questions = [EvalQuestion("found", ("gold",)), EvalQuestion("lost", ("gold",))]
    text = evaluate(fake_search(rankings), questions).format_text()
    assert "hit@5          0.500" in text and "hit@10         0.500" in text
    assert "MRR@10         0.500" in text
    assert "not in top 10: lost" in text and "found" not in text.split("MRR")[1]


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([5.0], 95) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0


def test_load_questions_reads_jsonl_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"q": "A?", "gold": ["a"]}\n\n{"q": "B?", "gold": ["b", "c"]}\n')
    questions = load_questions(path)
    assert [(q.q, q.gold, q.line) for q in questions] == [("A?", ("a",), 1), ("B?", ("b", "c"), 3)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"q": "A?", "gold": ["a"]', "invalid JSON"),
        ('["A?"]', "expected an object"),
        ('{"gold": ["a"]}', "'q' must be a non-empty string"),
        ('{"q": "A?", "gold": []}', "'gold' must be a non-empty list"),
        ('{"q": "A?", "gold": "a"}', "'gold' must be a non-empty list"),
    ],
)
def test_load_questions_names_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"q": "fine?", "gold": ["x"]}\n' + line + "\n")
    with pytest.raises(EvalFileError) as info:
        load_questions(path)
    assert f"{path}:2: " in str(info.value) and message in str(info.value)


def test_load_questions_rejects_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(EvalFileError, match="no questions"):
        load_questions(empty)
    with pytest.raises(EvalFileError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    "name",
    [
        "eval_dev.jsonl",
        "eval_extra.jsonl",
        "eval_fourth.jsonl",
        "eval_fifth.jsonl",
        "eval_sixth.jsonl",
    ],
)
def test_fixture_gold_phrases_occur_in_the_knowledge_base(name: str) -> None:
    root = Path(__file__).resolve().parents[1]
    corpus = normalise(" ".join(p.read_text() for p in sorted((root / "knowledge").glob("*.md"))))
    for question in load_questions(root / "tests" / "fixtures" / name):
        assert any(normalise(g) in corpus for g in question.gold), question.q


def test_answer_rows_are_validated(tmp_path: Path) -> None:
    from bot.evaluation import load_answer_rows

    bad = tmp_path / "a.jsonl"
    bad.write_text('{"id": "x", "q": "why?", "gold": [], "followup_of": "nope"}\n')
    with pytest.raises(EvalFileError, match=r"a\.jsonl:1: 'followup_of' names no earlier row"):
        load_answer_rows(bad)


async def test_answer_eval_asks_follow_ups_in_one_conversation_and_scores_quotes(
    tmp_path: Path,
) -> None:
    from bot.evaluation import evaluate_answers, load_answer_rows
    from bot.models import Answer, Citation

    rows = tmp_path / "a.jsonl"
    rows.write_text(
        "\n".join(
            [
                '{"id": "a", "q": "Should I?", "gold": ["Apply broadly."], "kind": "one-off"}',
                '{"id": "b", "q": "why?", "gold": ["Because it works."], "followup_of": "a"}',
                '{"id": "c", "q": "salary?", "gold": [], "kind": "out-of-scope"}',
            ]
        )
    )
    asked: list[tuple[str, str]] = []

    async def ask(key: str, text: str) -> Answer:
        asked.append((key, text))
        if text == "salary?":
            return Answer("not covered", False, "extractive")
        quote = "Apply broadly." if text == "Should I?" else "This works because of X"
        cite = Citation("T", "A", None, quote, "p1")
        return Answer("- “x” [1]", True, "extractive", (cite,))

    report = await evaluate_answers(ask, load_answer_rows(rows))
    assert asked == [("eval:a", "Should I?"), ("eval:a", "why?"), ("eval:c", "salary?")]
    assert report.gold_in_quotes == 1.0
    assert report.followup_gold_in_quotes == 0.0
    assert report.out_of_scope_declined == 1.0
    # "This works because of X" opens on a reference back and ends no sentence: odd.
    assert report.odd_quote_rate == 0.5


@pytest.mark.parametrize(
    "name",
    [
        "eval_answers_dev.jsonl",
        "eval_answers_extra.jsonl",
        "eval_answers_third.jsonl",
        "eval_answers_followups.jsonl",
        "eval_answers_fourth.jsonl",
        "eval_answers_fifth.jsonl",
        "eval_answers_sixth.jsonl",
    ],
)
def test_answer_set_gold_phrases_are_verbatim_in_the_knowledge_base(name: str) -> None:
    from bot.evaluation import load_answer_rows

    root = Path(__file__).resolve().parents[1]
    corpus = normalise(" ".join(p.read_text() for p in sorted((root / "knowledge").glob("*.md"))))
    rows = load_answer_rows(root / "tests" / "fixtures" / name)
    assert {r.kind for r in rows} >= {"one-off", "follow-up"}
    for row in rows:
        for phrase in row.gold:
            assert normalise(phrase) in corpus, (row.id, phrase)
