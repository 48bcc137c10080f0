"""A team's first hour with /ask: documents indexed, questions answered with sources, admins adding more from Slack."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from bot.adapters.slack.files import FileDownloader, shared_files
from bot.engines.stream import predict_stream
from bot.format import to_text
from bot.reply import Reply
from bot.request import Message
from plugins.search import context
from tests.support.bots import BOT_TOKEN, TestBot, write_config

DOCS = {
    "accounts.md": "# Accounts\n\nTo reset your password, open the account page and click \"Forgot password\". "
    "A reset link is emailed to you and expires after one hour.",
    "lunch.md": "# Cafeteria\n\nThe cafeteria on the ground floor serves lunch from noon to two o'clock on weekdays. "
    "Vegetarian dishes are marked with a green leaf.",
    "guides/garden.html": "<html><body><h1>Watering tomatoes</h1><p>Water tomato plants deeply twice a week, in the "
    "morning, and never wet the leaves.</p></body></html>",
}
ADMIN, SOMEONE = "UADMIN01", "UNOBODY1"


class FakeConversation:
    """Stands in for Slack's conversations.history, clean as the adapter hands it (test_slack_http covers the real one)."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages, self.reads = messages, []

    def history(self, channel_id: str, *, limit: int) -> list[Message]:
        self.reads.append((channel_id, limit))
        return list(reversed(self.messages))[:limit]  # newest first, as Slack sends them

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        return []


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("search-plugin")
    for name, text in DOCS.items():
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text(text, encoding="utf-8")
    (root / "inbox").mkdir()
    (root / "secret").mkdir()
    (root / "secret" / "keys.txt").write_text("The vault combination is four eight fifteen sixteen.")
    return root


@pytest.fixture(scope="module")
def searchbot(workspace) -> TestBot:
    """The bot with the docs folder indexed once by an admin, as `/index PATH` does it."""
    bot = TestBot(write_config(workspace, f"""
        [bot]
        admins = ["{ADMIN}"]
        [search]
        indexes_dir = "indexes"
        allowed_paths = ["docs", "inbox"]
        max_file_mb = 1
        [plugins.search]
        max_wait_ms = 0
    """))
    reply = bot.ask(f"/index {workspace / 'docs'}", user_id=ADMIN)
    assert not reply.is_error, reply.text
    assert reply.text.startswith("docs: 3 added")
    return bot


def sources(bot: TestBot, index: str) -> list[str]:
    manager = bot.bot.plugins["search"].manager()
    return [item["source"] for item in manager.open(index).sources()] if index in manager.names() else []


def test_ask_answers_with_the_sentence_in_bold_and_its_source(searchbot):
    reply = searchbot.ask("/ask How long is the password reset link valid?")
    assert not reply.is_error
    assert "*A reset link is emailed to you and expires after one hour.*" in reply.text
    assert "accounts.md`" in reply.text and "score 0." in reply.text
    assert reply.data["sources"][0].endswith("docs/accounts.md")


def test_ask_says_it_does_not_know_and_what_the_index_holds(searchbot):
    reply = searchbot.ask("/ask What is the population of Mongolia?")
    assert reply.text.startswith("I don't know")
    assert "It holds 3 documents" in reply.text and "lunch.md" in reply.text
    assert reply.data["found"] is False


def test_a_source_filter_narrows_the_answer_before_the_cut(searchbot):
    reply = searchbot.ask("/search password reset source:*guides/*")
    assert [hit["source"].rsplit("/", 2)[-2:] for hit in reply.data["hits"]] == [["guides", "garden.html"]]
    answer = searchbot.ask("/ask when is lunch served? source:*accounts*")
    assert not answer.data["found"] and answer.data["hits"]
    assert all(hit["source"].endswith("accounts.md") for hit in answer.data["hits"])


def test_an_unknown_index_says_how_to_add_documents(searchbot):
    reply = searchbot.ask("/ask in:nope when is lunch?")
    assert reply.is_error
    assert "no index named `nope`" in reply.text and "`docs`" in reply.text and "/index PATH" in reply.text
    assert "nope" not in searchbot.bot.plugins["search"].manager().names()


def test_search_lists_the_top_hits(searchbot):
    reply = searchbot.ask("/search watering tomatoes")
    assert reply.data["hits"][0]["source"].endswith("guides/garden.html")
    assert reply.text.startswith("1. `") and "chunk 0" in reply.text and "similarity" in reply.text
    assert "Water tomato plants deeply" in reply.text


def test_predict_search_prints_hits_like_search_json(searchbot):
    out = io.StringIO()
    failed = predict_stream(searchbot.bot, "search", ['{"text": "reset my password"}', "watering tomatoes"], out,
                            options={"index": "docs", "k": 2})
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert failed == 0 and [row["text"] for row in rows] == ["reset my password", "watering tomatoes"]
    assert all(len(row["hits"]) == 2 for row in rows)
    assert set(rows[0]["hits"][0]) == {"source", "chunk", "score", "text", "extra"}
    assert rows[0]["hits"][0]["source"].endswith("accounts.md")


def test_an_admin_indexes_a_channel_and_ask_finds_its_messages(searchbot):
    chat = FakeConversation([Message("U1", "Deploys happen on Tuesdays after the standup.", "1700000000.000100"),
                             Message("U2", "During the holidays deploys are frozen, ask @ana for exceptions.",
                                     "1700000100.000100")])
    reply = searchbot.ask("/index in:chat <#C0DEPLOY|deploys> 50", user_id=ADMIN, conversation=chat)
    assert not reply.is_error, reply.text
    assert chat.reads == [("C0DEPLOY", 50)]
    answer = searchbot.ask("/ask in:chat are deploys frozen in the holidays?")
    assert "*During the holidays deploys are frozen, ask @ana for exceptions.*" in answer.text
    assert "<#C0DEPLOY|deploys>" in answer.text and answer.data["sources"] == ["slack://C0DEPLOY"]
    typed = searchbot.ask("/index in:chat #deploys", user_id=ADMIN, conversation=chat)  # not a channel link
    assert typed.is_error and "Pick the channel" in typed.text and len(chat.reads) == 1


@pytest.mark.parametrize("path", ["/etc", "{root}/docs/../secret", "{root}/inbox/link.txt"])
def test_an_admin_cannot_index_outside_the_allowed_folders(searchbot, workspace, path):
    link = workspace / "inbox" / "link.txt"
    if not link.is_symlink():
        os.symlink(workspace / "secret" / "keys.txt", link)  # a symlink inside an allowed folder, pointing out
    for target in (path.format(root=workspace), str(workspace / "inbox")):
        reply = searchbot.ask(f"/index in:outside {target}", user_id=ADMIN)
        assert reply.is_error and "outside the folders that may be indexed" in reply.text
    assert sources(searchbot, "outside") == []


def test_someone_not_an_admin_cannot_index_anything(searchbot, workspace):
    chat = FakeConversation([Message("U1", "Secret plans for the launch.", "1700000000.000100")])
    for text in (f"/index in:sneaky {workspace / 'docs'}", "/index in:sneaky <#C0SECRET|plans>"):
        reply = searchbot.ask(text, user_id=SOMEONE, conversation=chat)
        assert reply.is_error and "for the bot's admins" in reply.text
    assert chat.reads == [] and sources(searchbot, "sneaky") == []


def test_a_shared_file_is_downloaded_with_the_bot_token_and_indexed(searchbot, fake_slack):
    text = b"# Parking\n\nVisitors park in the north lot and show their badge at the gate."
    url = fake_slack.share_file("F0PARK", text, content_type="text/markdown", token=BOT_TOKEN)
    event_files = [{"id": "F0PARK", "name": "parking.md", "mimetype": "text/markdown", "size": len(text),
                    "url_private_download": url},
                   {"id": "F0PIC", "name": "cat.png", "mimetype": "image/png", "url_private_download": url}]
    with fake_slack.expect("not_authed", on="/files/F0PARK"):
        refused = searchbot.ask("/index in:files", user_id=ADMIN,
                                files=shared_files(event_files, FileDownloader("xoxb-wrong")))
    assert refused.is_error and "HTTP 403" in refused.text and "only text, Markdown, HTML and PDF" in refused.text
    assert sources(searchbot, "files") == []

    reply = searchbot.ask("/index in:files", user_id=ADMIN, files=shared_files(event_files, FileDownloader(BOT_TOKEN)))
    assert reply.text.startswith("files: 1 added") and "cat.png" in reply.text
    assert fake_slack.calls_to("/files/F0PARK")[-1].headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert len(fake_slack.calls_to("/files/F0PARK")) == 2  # the picture is refused by its type, never downloaded
    answer = searchbot.ask("/ask in:files where do visitors park?")
    assert "*Visitors park in the north lot and show their badge at the gate.*" in answer.text
    assert "parking.md (shared file)" in answer.text


def test_a_shared_file_over_the_size_limit_is_refused_before_and_while_downloading(searchbot, fake_slack):
    big = b"Visitors park in the north lot. " * 40_000  # about 1.3 MB, over max_file_mb = 1
    url = fake_slack.share_file("F0BIG", big, content_type="text/plain", token=BOT_TOKEN)
    declared = {"id": "F0BIG", "name": "big.txt", "mimetype": "text/plain", "size": len(big), "url_private_download": url}
    undeclared = {**declared, "id": "F0BIG2", "name": "big2.txt", "size": None}
    reply = searchbot.ask("/index in:big", user_id=ADMIN,
                          files=shared_files([declared, undeclared], FileDownloader(BOT_TOKEN)))
    assert reply.is_error and "big.txt: too large" in reply.text and "big2.txt: larger than the limit" in reply.text
    assert len(fake_slack.calls_to("/files/F0BIG")) == 1  # only the file whose size Slack did not say
    assert sources(searchbot, "big") == []


def test_the_shipped_config_documents_every_search_key():
    import tomllib

    from bot.config import load_config
    from bot.config import SearchSettings
    from plugins.search import SearchPluginSettings
    from tests.support.bots import ROOT

    shipped = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    assert set(shipped["search"]) == set(SearchSettings.model_fields)
    assert set(shipped["plugins"]["search"]) <= set(SearchPluginSettings.model_fields)
    config = load_config(ROOT / "config.toml")
    assert config.search.allowed_paths == []
    assert config.search.indexes_dir == ROOT / "indexes"  # relative to the config file, made absolute at load


def test_an_admin_drops_an_index_and_search_stops_finding_it_but_not_while_it_is_written(searchbot, workspace):
    assert not searchbot.ask(f"/index in:scratch {workspace / 'docs'}", user_id=ADMIN).is_error
    assert not searchbot.ask("/search in:scratch lunch").is_error  # opened, and held open by the plugin

    assert searchbot.ask("/nlp-admin drop-index scratch", user_id=SOMEONE).is_error
    with searchbot.bot.plugins["search"].manager().open("scratch").writing():  # an /index run holds the lock
        busy = searchbot.ask("/nlp-admin drop-index scratch", user_id=ADMIN)
    assert busy.is_error and "is being written" in busy.text
    assert "scratch" in searchbot.bot.plugins["search"].manager().names()

    dropped = searchbot.ask("/nlp-admin drop-index scratch", user_id=ADMIN)
    assert not dropped.is_error, dropped.text
    assert dropped.data == {"dropped": "scratch"}
    gone = searchbot.ask("/search in:scratch lunch")
    assert gone.is_error and "no index named `scratch`" in gone.text and "`scratch`," not in gone.text
    assert not (workspace / "indexes" / "scratch").exists()
    assert not [path for path in (workspace / "indexes").iterdir() if "scratch" in path.name]  # no leftovers
    assert not searchbot.ask("/search in:docs lunch").is_error


def test_two_answering_sentences_of_one_chunk_are_quoted_once(searchbot):
    reply = searchbot.ask("/ask How do I reset my password, and how long is the reset link valid?")
    sentences = reply.data["sentences"]
    chunks = {(item["source"], item["chunk"]) for item in sentences}
    assert len(sentences) == 2 and len(chunks) == 1  # both from accounts.md's one chunk
    quotes = [line for line in reply.text.splitlines() if line.startswith(">")]
    assert len(quotes) == 1  # not the same chunk twice
    assert all(f"*{' '.join(item['sentence'].split())}*" in quotes[0] for item in sentences)


def test_a_quoted_code_block_reads_as_text_with_its_answer_in_bold():
    """A Markdown chunk's ``` fence inside a quote would open a code block that swallows the rest, bold marks included."""
    chunk = "Add a document:\n\n```sh\nnlpbot index add wifi.md\n```\n\nThe guest network is called visitors."
    shown = to_text(Reply(text=context(chunk, ["nlpbot index add wifi.md", "The guest network is called visitors."])))
    assert shown.plain == "│ Add a document: nlpbot index add wifi.md The guest network is called visitors."
    assert [shown.plain[span.start:span.end] for span in shown.spans if "bold" in str(span.style)] == \
        ["nlpbot index add wifi.md", "The guest network is called visitors."]
