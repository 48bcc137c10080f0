"""Several workspaces, fully: each one's recaps and scheduled jobs run with its own installation, and a workspace
that uninstalls the app (or revokes its token) is forgotten: installation, people's recaps, message log."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from tests.support.bots import ROOT, BotServer, sentiment_config, write_config
from tests.support.slackhttp import deliver, slash, wait_until
from tests.support.slackoauth import CLIENT_ID, install, mention_from

OAUTH = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "client-secret-for-tests"}
DIGEST = """
[[schedule.jobs]]
id = "leaving-digest"
action = "recap"
target = "#leaving"
post_to = "dm"
team = "T0021"
cron = "0 9 * * 1"
verbose = true
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_sentiment, module_fake_slack):
    fake = module_fake_slack
    fake.add_channel("C0TEAM", "team", members=["UPERSON1"])  # where mention_from asks
    for channel, name, member in (("C0LEAVING", "leaving", "UUSER001"), ("C0STAYING", "staying", "UMEMBER2"),
                                  ("C0REVOKED", "revoked", "UMEMBER3")):
        fake.add_channel(channel, name, members=[member])
        fake.set_timezone(member, "Europe/Berlin")
        fake.history[channel] = [{"type": "message", "user": member, "ts": f"{time.time() - 600:.6f}",
                                  "text": f"The {name} team ships the new onboarding guide on Friday."}]
    folder = tmp_path_factory.mktemp("workspaces")
    config = write_config(folder, sentiment_config(tiny_sentiment, "[slack]\nmembership_ttl_s = 0\n" + DIGEST))
    bot = BotServer(config, fake, env=OAUTH)
    for team, token in (("T0021", "xoxb-leaving"), ("T0022", "xoxb-staying"), ("T0023", "xoxb-revoked")):
        assert install(bot, fake, team, token)[0].status == 200
    yield bot, config
    bot.stop()


def cli(config, fake, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **OAUTH, "SLACK_API_URL": fake.api_url, "PYTHONPATH": str(ROOT)}
    env.pop("SLACK_BOT_TOKEN", None)  # with OAuth every workspace's token comes from its installation
    return subprocess.run([sys.executable, "-m", "bot", *args, "--config", str(config)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def subscribe(bot, fake, team: str, user: str, channel: str, name: str) -> None:
    slash(bot, fake, "/summarize", f"subscribe <#{channel}|{name}> daily 09:00", name=f"sub-{name}", user=user, team=team)
    [answer] = fake.wait_for(f"/response/sub-{name}", timeout=90)
    assert "Subscribed" in answer.body["text"], answer.body


def job_ids(config, fake) -> set[str]:
    listed = cli(config, fake, "jobs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {job["id"] for job in json.loads(listed.stdout)}


def tokens_during(fake, action) -> tuple[subprocess.CompletedProcess, set[str]]:
    """What `action` returned, and the bearer tokens of the Web API calls made while it ran."""
    before = len(fake.calls)
    result = action()
    with fake._lock:
        return result, {c.headers.get("Authorization") for c in fake.calls[before:] if c.path.startswith("/api/")}


def test_recaps_and_jobs_run_with_their_workspaces_installation_and_an_uninstall_forgets_it(server, module_fake_slack):
    bot, config = server
    fake = module_fake_slack
    subscribe(bot, fake, "T0021", "UUSER001", "C0LEAVING", "leaving")
    subscribe(bot, fake, "T0022", "UMEMBER2", "C0STAYING", "staying")
    deliver(bot, fake.say("C0LEAVING", "The onboarding guide draft is in review.", user="UUSER001"), team="T0021")

    ran, tokens = tokens_during(fake, lambda: cli(config, fake, "jobs", "run", "recap-UUSER001-C0LEAVING"))
    assert ran.returncode == 0 and "sent to 1 reader(s)" in ran.stdout, ran.stderr
    assert tokens == {"Bearer xoxb-leaving"}  # the subscriber's workspace, and only it
    ran, tokens = tokens_during(fake, lambda: cli(config, fake, "jobs", "run", "recap-UMEMBER2-C0STAYING"))
    assert ran.returncode == 0 and tokens == {"Bearer xoxb-staying"}, ran.stderr
    ran, tokens = tokens_during(fake, lambda: cli(config, fake, "jobs", "run", "leaving-digest"))  # a configured job
    assert ran.returncode == 0 and tokens == {"Bearer xoxb-leaving"}, ran.stderr
    assert "onboarding guide" in json.dumps(fake.posts("DUSER001")[-1]["blocks"])

    fake.revoke("xoxb-leaving")  # as Slack does on an uninstall: a call with it now is refused, a violation
    deliver(bot, {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"}, team="T0021")
    wait_until(lambda: "Slack workspace T0021 uninstalled the app" in bot.log.read_text(), timeout=30)
    said = [line for line in bot.log.read_text().splitlines() if "Slack workspace T0021" in line][0]
    assert "its installation, 1 recap subscription(s)" in said and "logged message(s)" in said
    assert "leaving-digest" in said  # the operator is told which configured jobs still name it

    assert job_ids(config, fake) >= {"recap-UMEMBER2-C0STAYING", "leaving-digest"}
    assert "recap-UUSER001-C0LEAVING" not in job_ids(config, fake)
    refused = cli(config, fake, "jobs", "run", "leaving-digest")
    assert refused.returncode != 0 and "workspace T0021 has no installation" in refused.stdout + refused.stderr
    with closing(sqlite3.connect(config.parent / "state" / "slack-messages.sqlite")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages WHERE team = 'T0021'").fetchone()[0] == 0

    before = len(fake.calls)
    assert mention_from(bot, "T0021", ts="1700004000.000100", event_id="Ev0GONE") == 200
    assert mention_from(bot, "T0022", ts="1700004001.000100", event_id="Ev0STAYS") == 200
    [answer] = fake.wait_for("/api/chat.postMessage", timeout=60,
                             where=lambda c: c.body.get("thread_ts") == "1700004001.000100")
    assert answer.headers["Authorization"] == "Bearer xoxb-staying"
    time.sleep(1.0)
    assert not [c for c in fake.calls[before:] if c.headers.get("Authorization") == "Bearer xoxb-leaving"]


def test_revoked_user_tokens_keep_the_workspace_a_revoked_bot_token_forgets_it(server, module_fake_slack):
    bot, config = server
    fake = module_fake_slack
    subscribe(bot, fake, "T0023", "UMEMBER3", "C0REVOKED", "revoked")
    deliver(bot, {"type": "tokens_revoked", "tokens": {"oauth": ["UINSTALL"]}, "event_ts": f"{time.time():.6f}"},
            team="T0023")
    wait_until(lambda: "Slack workspace T0023 revoked 1 user token(s)" in bot.log.read_text(), timeout=30)
    assert "recap-UMEMBER3-C0REVOKED" in job_ids(config, fake)

    deliver(bot, {"type": "tokens_revoked", "tokens": {"bot": ["B0001"]}, "event_ts": f"{time.time():.6f}"},
            team="T0023")
    wait_until(lambda: "Slack workspace T0023 revoked the bot's token" in bot.log.read_text(), timeout=30)
    assert "recap-UMEMBER3-C0REVOKED" not in job_ids(config, fake)
    refused = cli(config, fake, "jobs", "run", "recap-UMEMBER3-C0REVOKED")
    assert refused.returncode != 0 and "no job" in refused.stdout + refused.stderr
