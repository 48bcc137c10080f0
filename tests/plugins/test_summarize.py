"""/summarize: a long text, a thread or a channel boiled down, extractively offline or by a seq2seq model."""

from __future__ import annotations

import io
import json

import pytest

from bot.engines.stream import predict_stream
from bot.format import to_text
from bot.request import Message

LAUNCH = [
    "The team launched the new mobile banking app on Monday after six months of work.",
    "The mobile banking app lets customers pay bills and move money between accounts.",
    "My cat refuses to eat anything except tuna.",
    "Early reviews of the banking app praise its fast payments and clear account overview.",
    "The team launched the new mobile banking app on Monday after six months of work.",
    "Volcanic soil is rich in minerals.",
    "Next month the bank will add savings goals to the mobile app.",
]
LAUNCH_TEXT = " ".join(LAUNCH)


class FakeConversation:
    """A stand-in for Slack's conversations.history / conversations.replies (the core tests cover the real API)."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.calls: list[tuple] = []

    def history(self, channel_id: str, *, limit: int) -> list[Message]:
        self.calls.append(("history", channel_id, limit))
        return list(reversed(self.messages))[:limit]  # Slack returns newest first

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        self.calls.append(("thread", channel_id, thread_ts))
        return self.messages


def messages(texts: list[str]) -> list[Message]:
    return [Message(user=f"U00{i % 3}", text=text, ts=f"1700000{i:03d}.000100") for i, text in enumerate(texts)]


@pytest.fixture(scope="module")
def extractive_bot(bot_for):
    return bot_for("""
        [plugins.summarize]
        backend = "extractive"
        sentences = 3
        max_text_chars = 3000
    """)


@pytest.fixture(scope="module")
def abstractive_bot(bot_for, tiny_seq2seq):
    return bot_for(f"""
        [plugins.summarize]
        backend = "abstractive"
        model = "{tiny_seq2seq}"
        max_length = 12
        min_length = 4
        num_beams = 1
        no_repeat_ngram_size = 2
    """)


def test_an_extractive_summary_keeps_the_central_sentences_in_order_without_repeats(extractive_bot):
    reply = extractive_bot.ask(f"/summarize {LAUNCH_TEXT}")
    assert not reply.is_error
    summary = reply.data["summary"]
    kept = list(dict.fromkeys(sentence for sentence in LAUNCH if sentence in summary))
    assert len(kept) == 3
    assert all("app" in sentence for sentence in kept)  # the cat and the volcano are off topic
    assert summary.count("launched the new mobile banking app") <= 1
    assert [summary.index(s) for s in kept] == sorted(summary.index(s) for s in kept)
    assert summary == " ".join(kept)


def test_abbreviations_numbers_and_links_do_not_end_a_sentence_but_a_line_does(extractive_bot):
    text = ("Version 2.5 ships to the U.S. stores on Friday, see e.g. https://example.com/v2.5/notes.html for details.\n"
            "the beta testers liked the new search\n"
            "Dr. Ng will demo it to the sales team next week.")
    summary = extractive_bot.ask(f"/summarize {text}").data["summary"]
    assert summary == text.replace("\n", " ")  # three sentences, all kept by `sentences = 3`


def test_the_reply_says_how_long_the_source_and_the_summary_are(extractive_bot):
    reply = extractive_bot.ask(f"/summarize {LAUNCH_TEXT}")
    words = len(LAUNCH_TEXT.split())
    assert f"From {words} words to {reply.data['summary_words']} words" in reply.text
    assert reply.data["source_words"] == words
    assert str(to_text(reply)).count(f"{words} words") == 1  # said once, not again in fields


def test_a_thread_is_summarized_when_i_am_mentioned_in_it(extractive_bot):
    thread = messages([*LAUNCH, ":tada:", "@nlpbot summarize"])  # as the adapter hands it: mentions resolved
    conversation = FakeConversation(thread)
    reply = extractive_bot.ask("<@UBOT0001> summarize", source="mention", bot_user_id="UBOT0001",
                               channel_id="C0TEAM", thread_ts="1700000000.000100", conversation=conversation)
    assert not reply.is_error
    assert conversation.calls == [("thread", "C0TEAM", "1700000000.000100")]
    assert reply.title == "Summary of this thread"
    assert reply.data["source_messages"] == len(LAUNCH)  # the emoji and the request itself are not content
    assert f"in {len(LAUNCH)} messages" in reply.text
    assert "cat" not in reply.data["summary"]


def test_a_channel_named_in_the_command_is_read_back_n_messages(extractive_bot):
    conversation = FakeConversation(messages(LAUNCH))
    reply = extractive_bot.ask("/summarize <#C0BANK|banking> 5", channel_id="C0HERE", conversation=conversation)
    assert conversation.calls == [("history", "C0BANK", 5)]
    assert reply.title == "Summary of #banking"
    assert reply.data["source_messages"] == 5


def test_reading_history_in_the_console_says_to_paste_the_text(extractive_bot):
    reply = extractive_bot.ask("/summarize <#C0BANK|banking>")
    assert reply.is_error
    assert "needs Slack" in reply.text


def test_a_channel_with_only_emoji_has_nothing_to_summarize(extractive_bot):
    reply = extractive_bot.ask("/summarize", channel_id="C0HERE", conversation=FakeConversation(messages([":+1:", "!!"])))
    assert "no text messages to summarize" in reply.text


@pytest.mark.parametrize("text, expected", [
    ("/summarize", "Give me some text"),
    ("/summarize ??? 123 ---", "doesn't look like text"),
    ("/summarize " + "word " * 700, "takes at most 3,000"),
    ("/summarize <#C0BANK|banking> 99999", "between 1 and 1000"),
])
def test_empty_garbage_too_long_and_bad_counts_get_a_clear_reply(extractive_bot, text, expected):
    reply = extractive_bot.ask(text, conversation=FakeConversation([]))
    assert reply.is_error
    assert expected in reply.text


def test_an_abstractive_summary_is_written_by_the_seq2seq_model(abstractive_bot):
    reply = abstractive_bot.ask("/summarize The committee met on Monday to discuss the budget for the new library.")
    assert not reply.is_error
    assert reply.data["method"] == "abstractive"
    assert reply.data["chunks"] == 1 and reply.data["rounds"] == 1
    assert reply.data["summary"].strip()
    assert "1 chunk(s)" in reply.footer


def test_default_generation_lengths_are_capped_at_what_the_model_can_write(bot_for, tiny_seq2seq):
    bot = bot_for(f"""
        [plugins.summarize]
        backend = "abstractive"
        model = "{tiny_seq2seq}"
        num_beams = 1
    """)
    assert bot.bot.plugins["summarize"].settings.max_length > 64  # the tiny model has 64 positions
    reply = bot.ask("/summarize The committee met on Monday to discuss the budget for the new library.")
    assert not reply.is_error
    assert reply.data["summary_words"] > 0


def test_a_text_longer_than_the_model_reads_is_chunked_and_reduced(abstractive_bot):
    text = " ".join(LAUNCH * 4)  # about 500 tokens for a model that reads 64
    reply = abstractive_bot.ask(f"/summarize {text}")
    assert not reply.is_error
    assert reply.data["chunks"] >= 5
    assert reply.data["rounds"] >= 2
    assert reply.data["summary_words"] < reply.data["source_words"]


def test_a_summary_model_that_cannot_load_gets_a_clear_reply(bot_for, tmp_path):
    bot = bot_for(f"""
        [plugins.summarize]
        backend = "abstractive"
        model = "{tmp_path}"
    """)
    reply = bot.ask("/summarize Some text that should be summarized.")
    assert reply.is_error
    assert "plugins.summarize.model: could not load" in reply.text


def test_abstractive_without_a_model_stops_at_start_up(make_config):
    from bot.config import load_config
    from bot.core import Nlpbot
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="needs model"):
        Nlpbot(load_config(make_config('[plugins.summarize]\nbackend = "abstractive"\n')))


def test_nlpbot_predict_summarize_writes_text_and_summary(extractive_bot):
    out = io.StringIO()
    predict_stream(extractive_bot.bot, "summarize", [json.dumps({"text": LAUNCH_TEXT}), "One short line."], out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [set(row) for row in rows] == [{"text", "summary"}] * 2
    assert rows[1]["summary"] == "One short line."
    assert "cat" not in rows[0]["summary"]
