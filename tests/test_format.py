"""Replies rendered for Slack stay under its limits and lose nothing."""

from __future__ import annotations

from bot.format import (
    BLOCKS_PER_MESSAGE,
    MESSAGE_CHARS,
    SECTION_CHARS,
    escape,
    split_text,
    to_json,
    to_plain,
    to_slack_messages,
)
from bot.reply import Reply


def section_texts(messages):
    return [b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section" and "text" in b]


def test_a_short_reply_is_one_message_with_a_plain_fallback():
    [message] = to_slack_messages(Reply(text="*Positive* (97% sure)", title="Sentiment", footer="model v3"))
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "context"]
    assert "*Positive* (97% sure)" in message["text"]


def test_a_long_reply_is_split_under_every_limit_without_losing_words():
    paragraphs = [f"Paragraph {i}: " + " ".join(f"word{i}_{j}" for j in range(120)) for i in range(60)]
    text = "\n\n".join(paragraphs)
    messages = to_slack_messages(Reply(text=text))
    assert len(messages) > 1
    for message in messages:
        assert len(message["blocks"]) <= BLOCKS_PER_MESSAGE
        assert len(message["text"]) <= MESSAGE_CHARS
        for block in message["blocks"]:
            assert len(block["text"]["text"]) <= SECTION_CHARS
    rebuilt = " ".join(section_texts(messages)).split()
    assert rebuilt == text.split()


def test_a_line_longer_than_a_section_is_cut_between_words():
    text = " ".join(["lorem"] * 2000)
    pieces = split_text(text, SECTION_CHARS)
    assert all(len(piece) <= SECTION_CHARS for piece in pieces)
    assert " ".join(pieces).split() == text.split()


def test_a_code_block_cut_in_two_is_closed_and_reopened():
    text = "```\n" + "\n".join(f"line {i}" for i in range(1000)) + "\n```"
    pieces = split_text(text, 500)
    assert all(piece.count("```") % 2 == 0 for piece in pieces)
    assert all(len(piece) <= 500 for piece in pieces)


def test_many_fields_are_grouped_ten_to_a_section():
    reply = Reply(text="counts", fields=[(f"name{i}", str(i)) for i in range(25)])
    blocks = to_slack_messages(reply)[0]["blocks"]
    field_blocks = [b for b in blocks if "fields" in b]
    assert [len(b["fields"]) for b in field_blocks] == [10, 10, 5]


def test_user_text_is_escaped_so_it_cannot_ping_or_link():
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_console_and_json_renderings():
    reply = Reply(text="a &lt;b&gt;", title="T", fields=[("k", "v")], footer="f", data={"x": 1}, plugin="p")
    assert to_plain(reply) == "T\na <b>\nk: v\n(f)"
    rendered = to_json(reply)
    assert set(rendered) == {"plugin", "text", "blocks", "data"}
    assert rendered["plugin"] == "p" and rendered["data"] == {"x": 1}


def test_the_terminal_rendering_keeps_the_words_and_drops_the_markup():
    from bot.format import to_text

    reply = Reply(title="Mood", text=":warning: *Mostly positive* for _(admins)_, see <https://x.io/a|the docs>, "
                                     "ask <@U123> in <#C1|general>\n>I &lt;3 this\ncron `0 3 * * *` for snake_case_name at 10:30:45",
                  fields=[("From", "*English* (en)")], footer="`/nlp help` lists the commands")
    text = to_text(reply)
    assert text.plain == ("Mood\n"
                          "⚠ Mostly positive for (admins), see the docs (https://x.io/a), ask @U123 in #general\n"
                          "│ I <3 this\n"
                          "cron 0 3 * * * for snake_case_name at 10:30:45\n"
                          "From: English (en)\n"
                          "/nlp help lists the commands")
    styles = {text.plain[span.start:span.end]: str(span.style) for span in text.spans}
    assert "bold" in styles["Mostly positive"] and "italic" in styles["(admins)"]
    assert "link https://x.io/a" in styles["the docs"]


def test_a_code_block_is_kept_as_it_is():
    from bot.format import to_text

    assert to_text(Reply(text="Jobs:\n```\nID   *CRON*\na    0 3 * * *\n```")).plain == "Jobs:\nID   *CRON*\na    0 3 * * *"


def test_a_channel_and_a_link_are_slack_links_and_plain_words_on_the_console():
    from bot.format import channel_link, link, to_text

    text = f"{channel_link('C0DEPLOY', 'deploys')} {channel_link('C0OPS')} {link('https://x.io/a', 'the <doc>')}"
    assert text == "<#C0DEPLOY|deploys> <#C0OPS> <https://x.io/a|the &lt;doc&gt;>"
    assert to_text(Reply(text=text)).plain == "#deploys #C0OPS the <doc> (https://x.io/a)"
