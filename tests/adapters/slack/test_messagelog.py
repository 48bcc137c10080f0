"""The message log's contract, run on both stores (SQLite for one replica, a real Redis for several), and the
keeper that fills it from Slack's events: what a channel read finds, edits and deletions applied, what the log
knows it may lack, one history call a minute across processes, and what is deleted when."""

from __future__ import annotations

import time

import pytest

from bot.adapters.slack.logkeeper import MessageKeeper
from bot.adapters.slack.messagelog import Coverage, RedisMessageLog, SQLiteMessageLog

NOW = time.time()


def ts(ago_s: float) -> str:
    return f"{NOW - ago_s:.6f}"


@pytest.fixture(params=["sqlite", "redis"])
def open_log(request, tmp_path, redis_server):
    """A factory: every call is another handle on the same log (another process, or another replica)."""
    if request.param == "sqlite":
        return lambda: SQLiteMessageLog(tmp_path / "messages.sqlite")
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    return lambda: RedisMessageLog(redis.Redis.from_url(redis_server.url))


def test_a_channel_reads_as_slack_lists_it_threads_counted(open_log):
    log = open_log()
    parent, first, second, later = ts(500), ts(400), ts(300), ts(200)
    log.put("T1", "C1", {"ts": parent, "user": "U1", "text": "Shall we move the retro?", "type": "message"})
    log.put("T1", "C1", {"ts": first, "user": "U2", "text": "Thursday works.", "thread_ts": parent})
    log.put("T1", "C1", {"ts": second, "user": "U1", "text": "Thursday it is.", "thread_ts": parent})
    log.put("T1", "C1", {"ts": later, "user": "U3", "text": "Lunch is here."})
    log.put("T1", "C2", {"ts": later, "user": "U3", "text": "Another channel."})
    log.put("T2", "C1", {"ts": later, "user": "U9", "text": "Another workspace."})

    top = log.top_level("T1", "C1")
    assert [m["text"] for m in top] == ["Lunch is here.", "Shall we move the retro?"]  # newest first, no replies
    assert top[1]["reply_count"] == 2 and top[1]["latest_reply"] == second and "reply_count" not in top[0]
    assert [m["text"] for m in log.top_level("T1", "C1", limit=1)] == ["Lunch is here."]
    assert [m["text"] for m in log.top_level("T1", "C1", oldest=float(ts(450)))] == ["Lunch is here."]
    assert [m["text"] for m in log.thread("T1", "C1", parent)] == ["Shall we move the retro?", "Thursday works.",
                                                                  "Thursday it is."]
    assert [m["text"] for m in log.replies_after("T1", "C1", float(first))] == ["Thursday it is."]
    assert set(top[0]) <= {"ts", "user", "text", "thread_ts", "subtype", "bot_id"}  # nothing else is kept


def test_an_edit_replaces_and_a_deletion_removes(open_log):
    log = open_log()
    log.put("T1", "C1", {"ts": ts(100), "user": "U1", "text": "The demo is at 3."})
    log.put("T1", "C1", {"ts": ts(100), "user": "U1", "text": "The demo is at 4.", "edited": {"user": "U1"}})
    assert [m["text"] for m in log.top_level("T1", "C1")] == ["The demo is at 4."]
    log.delete("T1", "C1", ts(100))
    assert log.top_level("T1", "C1") == []


def test_coverage_is_kept_per_channel_and_a_gap_is_remembered(open_log):
    log = open_log()
    assert log.coverage("T1", "C1") == Coverage()
    log.set_coverage("T1", "C1", Coverage(NOW - 3600))
    log.set_coverage("T1", "C1", log.coverage("T1", "C1").with_gap(NOW - 600, NOW - 300))
    assert open_log().coverage("T1", "C1") == Coverage(NOW - 3600, (NOW - 600, NOW - 300))
    assert ("T1", "C1") in open_log().channels()


def test_coverage_after_a_gap_and_after_history_pages():
    known = Coverage(1000.0)
    assert known.complete_from == 1000.0 and Coverage().complete_from is None
    gapped = known.with_gap(2000.0, 3000.0)
    assert gapped.complete_from == 3000.0
    assert gapped.with_gap(2500.0, 3500.0).gap == (2000.0, 3500.0)  # a second outage widens the one gap
    assert gapped.filled(2500.0) == Coverage(1000.0, (2000.0, 2500.0))  # a page that did not reach back far enough
    assert gapped.filled(1999.0) == Coverage(1000.0) == gapped.filled(None)  # the gap is closed
    assert known.filled(900.0) == Coverage(900.0) and known.filled(None) == Coverage(0.0)  # back to the start
    assert Coverage().with_gap(1.0, 2.0) == Coverage()  # nothing known, nothing lost


def test_one_history_call_a_minute_across_processes_per_method_and_workspace(open_log):
    first, second = open_log(), open_log()
    assert first.take_slot("T1", "conversations.history", 60.0) == 0.0
    wait = second.take_slot("T1", "conversations.history", 60.0)
    assert 55.0 < wait <= 60.0
    assert second.take_slot("T1", "conversations.replies", 60.0) == 0.0  # each method has its own minute
    assert second.take_slot("T2", "conversations.history", 60.0) == 0.0  # and each workspace
    assert first.take_slot("T3", "conversations.history", 0.2) == 0.0
    time.sleep(0.3)
    assert second.take_slot("T3", "conversations.history", 0.2) == 0.0


def test_old_messages_expire_and_a_channel_or_workspace_is_dropped(open_log):
    log = open_log()
    log.put("T1", "C1", {"ts": ts(20 * 86400), "user": "U1", "text": "Three weeks ago."})
    log.put("T1", "C1", {"ts": ts(60), "user": "U1", "text": "A minute ago."})
    log.set_coverage("T1", "C1", Coverage(NOW - 30 * 86400))
    assert log.expire(NOW - 14 * 86400) == 1
    assert [m["text"] for m in log.top_level("T1", "C1")] == ["A minute ago."]
    assert log.coverage("T1", "C1").since == pytest.approx(NOW - 14 * 86400)  # complete only as far as it keeps
    log.put("T1", "C2", {"ts": ts(60), "user": "U1", "text": "Elsewhere."})
    log.put("T2", "C1", {"ts": ts(60), "user": "U1", "text": "Another workspace."})
    assert log.drop("T1", "C1") == 1 and log.top_level("T1", "C1") == [] and log.coverage("T1", "C1") == Coverage()
    assert log.drop("T1") == 1 and log.top_level("T1", "C2") == []
    assert [m["text"] for m in log.top_level("T2", "C1")] == ["Another workspace."]


def test_the_keeper_applies_slacks_events(open_log):
    log = open_log()
    keeper = MessageKeeper(log, days=14)
    joined = NOW - 1000
    keeper.joined("T1", "C1", joined)
    assert log.coverage("T1", "C1") == Coverage(joined)  # complete from the bot's join
    keeper.message("T1", {"type": "message", "channel": "C1", "user": "U1", "text": "Standup moves to 10.",
                          "ts": ts(500), "channel_type": "channel"})
    keeper.message("T1", {"type": "message", "subtype": "channel_join", "channel": "C1", "user": "U5",
                          "text": "<@U5> has joined the channel", "ts": ts(450)})
    keeper.message("T1", {"type": "message", "subtype": "message_changed", "channel": "C1", "ts": ts(400),
                          "message": {"ts": ts(500), "user": "U1", "text": "Standup moves to 10:30."}})
    keeper.message("T1", {"type": "message", "channel": "C1", "user": "U2", "text": "Typo, ignore.", "ts": ts(300)})
    keeper.message("T1", {"type": "message", "subtype": "message_deleted", "channel": "C1", "deleted_ts": ts(300),
                          "ts": ts(200)})
    assert [(m["text"], m.get("subtype")) for m in log.top_level("T1", "C1")] == [
        ("<@U5> has joined the channel", "channel_join"), ("Standup moves to 10:30.", None)]
    keeper.message("T1", {"type": "message", "channel": "C7", "user": "U1", "text": "First seen.", "ts": ts(100)})
    assert log.coverage("T1", "C7").since == float(ts(100))  # a channel's first event starts its log
    keeper.left("T1", "C1")
    assert log.top_level("T1", "C1") == [] and log.coverage("T1", "C1") == Coverage()
    assert keeper.forget("T1") == 1 and log.top_level("T1", "C7") == []


def test_a_keeper_started_after_a_silence_marks_what_it_may_have_missed(open_log):
    log = open_log()
    log.set_coverage("T1", "C1", Coverage(NOW - 86400))
    log.touch(NOW - 600)  # the last process that kept the log went quiet ten minutes ago
    MessageKeeper(log, days=14)
    coverage = log.coverage("T1", "C1")
    assert coverage.gap is not None and coverage.gap[0] == pytest.approx(NOW - 600)
    assert coverage.complete_from >= NOW - 5
