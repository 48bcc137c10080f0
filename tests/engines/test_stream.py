"""The batch stream both engines share (bot/engines/stream.py): output in input order, bad lines in place."""

from __future__ import annotations

import io
import json

import pytest

from bot.engines.stream import predict_stream
from bot.errors import UserInputError


def test_predict_keeps_order_and_reports_bad_lines_in_place(testbot):
    lines = [
        '{"text": "I love this"}',
        "a plain line of text",
        '{"text": 42}',
        '{"broken json',
        "",
        "!!! ???",
        '{"text": "last one"}',
    ]
    out = io.StringIO()
    failed = predict_stream(testbot.bot, "sentiment", lines, out, source="in.jsonl")
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert failed == 3
    assert [row.get("text") for row in rows] == ["I love this", "a plain line of text", None, None, "!!! ???", "last one"]
    assert rows[2]["error"] == 'in.jsonl:3: a JSON line needs a "text" string'
    assert rows[3]["error"].startswith("in.jsonl:4: not valid JSON")
    for row in (rows[0], rows[1], rows[5]):
        assert set(row) == {"text", "label", "score", "top"}  # DESIGN.md: a classifier's row, its top guesses too


def test_an_option_the_plugin_does_not_declare_is_refused_before_any_input_is_read(testbot):
    out = io.StringIO()
    with pytest.raises(UserInputError, match="the sentiment plugin has no option --to; it takes no options of its own"):
        predict_stream(testbot.bot, "sentiment", ["I love this"], out, options={"to": "de"})
    assert out.getvalue() == ""
