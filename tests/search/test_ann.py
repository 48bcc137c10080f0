"""Past ann_threshold the index turns approximate, checks its own recall, and still finds the same documents."""

from __future__ import annotations

import pytest

TOPICS = ["password reset", "lunch hours", "business travel", "tomato watering", "sourdough baking",
          "parking garage", "expense reports", "printer jams", "fire drills", "vacation days"]


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_index_returns_the_exact_top_hits(tmp_path, make_manager, kind):
    from bot.search import Document

    documents = [Document(f"notes/{topic.replace(' ', '-')}-{n}", f"Note {n} about {topic}: what everyone should know "
                          f"about {topic}, written for new colleagues in week {n}.") for topic in TOPICS for n in range(8)]
    exact = make_manager().open("exact")
    approximate = make_manager(ann_threshold=20, ann_kind=kind).open("approximate")
    exact.add_documents(documents)
    approximate.add_documents(documents)

    stats = approximate.stats()
    assert stats["kind"] == kind and exact.stats()["kind"] == "flat"
    assert stats["recall_at_10"] >= 0.9 and stats["recall_sample"] == 80
    for topic in TOPICS:
        query = f"what should I know about {topic}?"
        exact_top = [hit.source for hit in exact.search(query, k=3, mode="dense")]
        assert [hit.source for hit in approximate.search(query, k=3, mode="dense")] == exact_top

    approximate.remove(["notes/fire-drills-0"])  # removal rebuilds the approximate index
    assert approximate.stats()["vectors"] == 79 and approximate.stats()["kind"] == kind
    assert "notes/fire-drills-0" not in [hit.source for hit in approximate.search("fire drills", k=10)]
