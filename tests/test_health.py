"""What runs degraded: several sources report and clear problems; each is new once, and /metrics follows."""

from __future__ import annotations

from prometheus_client import REGISTRY

from bot import health


def degraded(source: str) -> float | None:
    return REGISTRY.get_sample_value("nlpbot_degraded", {"source": source})


def test_several_sources_report_once_and_clear_their_own():
    try:
        assert health.report("test-cache", "the cache is unreachable") is True
        assert health.report("test-model", "model sentiment is missing") is True
        assert health.report("test-cache", "still unreachable") is False  # one outage, one report (and one log line)
        assert [(p.source, p.detail) for p in health.problems() if p.source.startswith("test-")] == [
            ("test-cache", "the cache is unreachable"), ("test-model", "model sentiment is missing")]
        assert degraded("test-cache") == 1 and degraded("test-model") == 1
        shown = next(p for p in health.problems() if p.source == "test-cache").to_dict()
        assert set(shown) == {"source", "detail", "since", "for_s"} and shown["for_s"] >= 0

        assert health.clear("test-cache").detail == "the cache is unreachable"
        assert health.clear("test-cache") is None
        assert [p.source for p in health.problems() if p.source.startswith("test-")] == ["test-model"]
        assert degraded("test-cache") == 0
    finally:
        health.clear("test-cache")
        health.clear("test-model")
    assert not [p for p in health.problems() if p.source.startswith("test-")]
