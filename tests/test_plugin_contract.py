"""The plugin contract, one test for every plugin (shipped or third-party): help, batch order, clear refusals.

A new plugin joins by adding a row to PLUGINS; a plugin class handed to the bot (`Shout`, below) and every plugin an
installed package registers in the `nlpbot.plugins` entry points (make setup installs examples/nlpbot-urgency)
pass the same checks, enabled with their defaults.
"""

from __future__ import annotations

import io
import json
from importlib.metadata import entry_points
from typing import Any

import pytest

from bot.cli import parser
from bot.config import load_config
from bot.core import Nlpbot
from bot.errors import UserInputError
from bot.plugin import Plugin, Reply, Request, command
from bot.plugin_manager import ENTRY_POINT_GROUP, plugin_class
from bot.engines.stream import predict_stream
from tests.support.bots import write_config
from tests.support.tinymodels import tiny_bart

ADMIN = "UADMIN01"
MAX_CHARS = 2000
GOOD = ["I love this new release.", "The meeting moved to Tuesday in Berlin.", "Der Zug ist heute wieder spät.",
        "Water the tomatoes twice a week.", "Alice Smith joined Acme Corp in London."]
BAD = {"empty": "", "binary": "\x00\x01\x02\x03\ufffd\ufffd\x7f\x1b", "too long": "word " * (MAX_CHARS // 4)}


class Shout(Plugin):
    """A third-party plugin, registered the way an installed package's entry point is."""

    name = "shout"
    description = "Repeats your text, louder."

    @command(usage="/shout TEXT")
    def shout(self, request: Request) -> Reply:
        """Say it again, in capitals."""
        return Reply(text=request.require_text(usage="/shout TEXT").upper())

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        return [{"text": text, "shout": text.upper()} for text in texts]


# Installed packages' plugins, run with their defaults; `nlpbot predict` without options where they have batch use.
THIRD_PARTY = {entry.name: ({} if plugin_class(entry.name).predict is not Plugin.predict else None)
               for entry in entry_points(group=ENTRY_POINT_GROUP)}
# plugin -> options for its batch use (None: no batch use, as for admin)
PLUGINS = {
    "sentiment": {},
    "ner": {},
    "summarize": {},
    "translate": {"to": "de"},
    "search": {"index": "docs", "k": 2},
    "admin": None,
    "shout": {},
    **THIRD_PARTY,
}


@pytest.fixture(scope="module")
def bot(tmp_path_factory, tiny_sentiment) -> Nlpbot:
    folder = tmp_path_factory.mktemp("contract")
    seq2seq = tiny_bart(folder / "bart")
    (folder / "docs").mkdir()
    (folder / "docs" / "garden.md").write_text("# Garden\n\nWater the tomatoes deeply twice a week, in the morning.")
    (folder / "docs" / "travel.md").write_text("# Travel\n\nBook trains to Berlin through the travel desk.")
    config = load_config(write_config(folder, f"""
        [bot]
        admins = ["{ADMIN}"]
        max_text_chars = {MAX_CHARS}
        [models]
        models_dir = "models"
        [schedule]
        enabled = false
        [search]
        indexes_dir = "indexes"
        allowed_paths = ["docs"]
        [plugins.sentiment]
        model = "{tiny_sentiment}"
        [plugins.translate]
        default_target = "en"
        languages = ["en", "de", "fr"]
        max_length = 16
        num_beams = 1
        [plugins.translate.models]
        "en-de" = "{seq2seq}"
        "de-en" = "{seq2seq}"
    """ + "".join(f"[plugins.{name}]\nenabled = true\n" for name in THIRD_PARTY)))
    bot = Nlpbot(config, extra_plugins={"shout": Shout})
    indexed = bot.ask(f"/index {folder / 'docs'}", user_id=ADMIN)
    assert not indexed.is_error, indexed.text
    return bot


def test_every_plugin_is_covered(bot):
    assert set(bot.plugins) == set(PLUGINS)


def test_the_example_package_is_installed_and_found_by_its_entry_point():
    assert "urgency" in THIRD_PARTY, ("examples/nlpbot-urgency is not installed: `make setup` installs it "
                                      "(pip install -e examples/nlpbot-urgency)")


@pytest.mark.parametrize("name", PLUGINS)
def test_every_command_has_help(bot, name):
    plugin = bot.plugins[name]
    assert plugin.description.strip()
    specs = plugin.commands()
    assert specs, f"{name} declares no command"
    overview = bot.ask("help").text
    for spec in specs:
        assert spec.help.strip() and spec.usage.strip(), f"/{spec.name} needs a docstring and a usage line"
        assert f"`{spec.usage}` {spec.help}" in overview
        detail = bot.ask(f"help /{spec.name}")
        assert detail.title == f"/{spec.name}" and spec.help in detail.text


@pytest.mark.parametrize("name", [name for name, options in PLUGINS.items() if options is not None])
def test_predict_gives_one_result_per_input_in_order(bot, name):
    results = bot.plugins[name].predict(GOOD, **PLUGINS[name])
    assert [result["text"] for result in results] == GOOD
    assert all(set(result) - {"text"} for result in results), "each result carries more than its input"


@pytest.mark.parametrize("name", PLUGINS)
def test_batch_options_are_declared_and_nothing_else_is_taken(bot, name):
    plugin = bot.plugins[name]
    declared = {option.name: option for option in plugin.predict_options}
    assert set(PLUGINS[name] or {}) <= set(declared), "the options this test passes are the ones the plugin declares"
    assert all(option.name.isidentifier() and option.help for option in declared.values())
    if name != "shout":  # installed plugins get their flags on `nlpbot predict NAME`, beside the command's own
        assert parser().parse_args(["predict", name]).plugin_options == {}
    if PLUGINS[name] is not None:
        with pytest.raises(UserInputError, match=f"the {name} plugin has no option --not-an-option"):
            predict_stream(bot, name, ["hello"], io.StringIO(), options={"not_an_option": 1})


@pytest.mark.parametrize("name", [name for name, options in PLUGINS.items() if options is not None])
def test_batch_use_refuses_bad_inputs_in_place(bot, name):
    texts = [GOOD[0], *BAD.values(), GOOD[1]]
    out = io.StringIO()
    failed = predict_stream(bot, name, [json.dumps({"text": text}) for text in texts], out, source="in.jsonl",
                            options=PLUGINS[name])
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert failed == len(BAD)
    assert [row["text"] for row in rows] == texts
    assert ["error" in row for row in rows] == [False, True, True, True, False]
    assert "characters; the limit is 2,000" in rows[3]["error"]


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("name", PLUGINS)
def test_every_command_refuses_bad_input_with_a_clear_reply(bot, name, kind):
    for spec in bot.plugins[name].commands():
        reply = bot.ask(f"/{spec.name} {BAD[kind]}", user_id=ADMIN)
        # A command that takes no text (`/nlp-admin`) may answer nothing-to-work-on with its usage instead.
        shows_usage = spec.accepts_empty and kind != "too long" and spec.usage in reply.text
        assert reply.is_error or shows_usage, f"/{spec.name} with {kind} input answered {reply.text!r}"
        assert "failed on my side" not in reply.text  # a refusal the person can act on, not a crash
        if kind == "too long":
            assert f"/{spec.name} takes at most 2,000" in reply.text
