"""Every command follows the exit-code table (DESIGN.md): 0 ok, 1 some inputs failed (the rest done), 2 usage error,
3 runtime error. One row per case a newcomer met on a fresh clone (issue #25), run as typed, on the shipped
config.toml with nothing trained: what the command printed, and its code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.cli import main
from tests.support.bots import ROOT, sentiment_config
from tests.support.configs import shipped_config

# (what a person typed, the code, a piece of what they were told on stdout or stderr)
TABLE = [
    (["ask", "help"], 0, "/sentiment TEXT"),
    (["ask", "/sentiment I love this"], 3, "nlpbot train sentiment"),  # the model is missing: runtime
    (["ask", "/translate hallo Welt, wie geht es dir heute"], 3, "No translation model is configured"),
    (["predict", "translate", "--input", "{tmp}/in.jsonl"], 3, "No translation model is configured"),
    (["ask", "/foo bar"], 2, "I don't know the command foo"),  # asked wrongly: usage
    (["ask", "/sentiment"], 2, "Give me a text"),
    (["ask", "--jsn", "hi"], 2, "usage: nlpbot ask"),  # the usage of the command meant, not the top level's
    (["search", "--k", "0", "hello"], 2, "--k: 0 is too small"),
    (["models", "show", "sentiment", "vBAD"], 2, "sentiment has no version 'vBAD'"),
    (["index", "add", "{tmp}/nothere.md"], 2, "no such file or folder"),
    (["search", "--index", "nosuch", "hello"], 2, "no index named 'nosuch'"),  # a wrong name: usage
]


def run(argv: list[str], capsys) -> tuple[int, str]:
    """`nlpbot ARGV` in this process (argparse's usage errors exit through SystemExit): its code and its output."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture
def fresh(tmp_path):
    """A fresh clone's config.toml: nothing trained, no index, no translation model."""
    (tmp_path / "in.jsonl").write_text('{"text": "hallo Welt, wie geht es dir heute"}\n', encoding="utf-8")
    return shipped_config(tmp_path)


@pytest.mark.parametrize("typed, code, told", TABLE, ids=lambda value: " ".join(value) if isinstance(value, list)
                         else None)
def test_the_exit_code_table(fresh, capsys, typed, code, told):
    argv = [word.replace("{tmp}", str(fresh.parent)) for word in typed]
    got, output = run([*argv, "--config", str(fresh)], capsys)
    assert (got, told in output) == (code, True), output
    assert "Traceback" not in output


def test_a_missing_path_leaves_no_index_behind_and_loads_no_model(fresh, capsys):
    code, output = run(["index", "add", str(fresh.parent / "nothere.md"), "--config", str(fresh)], capsys)
    assert code == 2 and "nothing was indexed" in output
    assert run(["index", "list", "--config", str(fresh)], capsys) == (0, "")  # no empty `docs` index


def test_some_bad_inputs_exit_1_and_the_rest_are_done(make_config, tiny_sentiment, tmp_path, capsys):
    config = make_config(sentiment_config(tiny_sentiment))
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"text": "I love this"}\n{"txt": "no text field"}\n', encoding="utf-8")
    code, output = run(["predict", "sentiment", "--input", str(lines), "--config", str(config)], capsys)
    assert code == 1
    assert '"label"' in output.splitlines()[0] and '"error"' in output.splitlines()[1]


def test_a_reader_that_stops_early_ends_the_command_quietly(make_config, tiny_sentiment):
    """`nlpbot models list | head -1`: the pipe closes before the command writes; no BrokenPipeError trace."""
    config = make_config(sentiment_config(tiny_sentiment))
    process = subprocess.Popen([sys.executable, "-m", "bot", "models", "list", "--config", str(config)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # the reader is gone before the first line is written
    error = process.stderr.read()
    assert process.wait(timeout=120) == 0
    assert "Traceback" not in error and "BrokenPipe" not in error, error
