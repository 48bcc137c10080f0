"""Several workspaces: install through OAuth, then every team is answered with its own bot token."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.bots import BotServer, sentiment_config, write_config
from tests.support.slackhttp import deliver, wait_until
from tests.support.slackoauth import CLIENT_ID, get, install, mention_from


@pytest.fixture(scope="module")
def oauth_bot(tmp_path_factory, tiny_sentiment, module_fake_slack):
    folder = tmp_path_factory.mktemp("oauth-bot")
    # a tiny BERT embeds what /index adds: the file test costs no MiniLM load
    config = write_config(folder, sentiment_config(tiny_sentiment, f'[search]\nembedding_model = "{tiny_sentiment}"'))
    server = BotServer(config, module_fake_slack,
                       env={"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "client-secret-for-tests"})
    yield server
    server.stop()


def test_two_workspaces_install_and_each_is_answered_with_its_own_token(oauth_bot, module_fake_slack):
    fake_slack = module_fake_slack
    for team, token in (("T0002", "xoxb-team-two"), ("T0003", "xoxb-team-three")):
        done, _, _ = install(oauth_bot, fake_slack, team, token)
        assert done.status == 200, done.body
    assert (oauth_bot.log.parent / "state" / "slack-installs.sqlite").is_file()

    fake_slack.add_channel("C0TEAM", "team", members=["UPERSON1"])
    for team, token, ts in (("T0002", "xoxb-team-two", "1700002000.000100"),
                            ("T0003", "xoxb-team-three", "1700002001.000100")):
        assert mention_from(oauth_bot, team, ts=ts, event_id=f"Ev0{team}") == 200
        [answer] = fake_slack.wait_for("/api/chat.postMessage", timeout=60, where=lambda c, ts=ts: c.body.get("thread_ts") == ts)
        assert answer.headers["Authorization"] == f"Bearer {token}" and answer.team == team
        assert "what a great team" in answer.body["text"]

    assert mention_from(oauth_bot, "T0999", ts="1700002002.000100", event_id="Ev0NOTINST") == 200
    time.sleep(1.0)  # a workspace that never installed the app gets nothing
    assert not [c for c in fake_slack.calls_to("/api/chat.postMessage") if c.body.get("thread_ts") == "1700002002.000100"]


def test_an_install_link_is_good_once_and_only_in_the_browser_that_started_it(oauth_bot, module_fake_slack):
    fake_slack = module_fake_slack
    done, start, cookie = install(oauth_bot, fake_slack, "T0004", "xoxb-team-four")
    assert done.status == 200
    state = parse_qs(urlsplit(start.getheader("Location")).query)["state"][0]
    fake_slack.oauth_codes["code-again"] = {"access_token": "xoxb-stolen", "team": {"id": "T0005"}}
    replay = get(oauth_bot, f"/slack/oauth_redirect?code=code-again&state={state}", cookie=cookie)
    assert replay.status >= 400
    other = get(oauth_bot, "/slack/install")
    other_state = parse_qs(urlsplit(other.getheader("Location")).query)["state"][0]
    assert get(oauth_bot, f"/slack/oauth_redirect?code=code-again&state={other_state}").status >= 400  # no cookie
    assert "code-again" in fake_slack.oauth_codes  # never exchanged


def test_files_shared_in_two_workspaces_are_each_fetched_with_that_workspaces_token(oauth_bot, module_fake_slack):
    fake = module_fake_slack
    fake.add_channel("C0FILES", "files", members=["UADMIN01"])
    teams = (("T0006", "xoxb-team-six", "north"), ("T0007", "xoxb-team-seven", "south"))
    for team, token, _ in teams:
        assert install(oauth_bot, fake, team, token)[0].status == 200
    for n, (team, token, lot) in enumerate(teams):
        text = f"Visitors of {team} park in the {lot} lot.".encode()
        url = fake.share_file(f"F0{team}", text, content_type="text/plain", token=token)
        ts = f"17000030{n:02d}.000100"
        deliver(oauth_bot, {"type": "app_mention", "user": "UADMIN01", "text": f"<@UBOT0001> index in:{lot}",
                            "ts": ts, "channel": "C0FILES", "event_ts": ts,
                            "files": [{"id": f"F0{team}", "name": f"{lot}.txt", "mimetype": "text/plain",
                                       "size": len(text), "url_private_download": url}]}, team=team)
    for team, token, lot in teams:
        wait_until(lambda lot=lot: any(m["text"].startswith(f"{lot}: 1 added") for m in fake.posts("C0FILES")),
                   timeout=90)
        [download] = [c for c in fake.calls_to(f"/files/F0{team}")]
        assert download.headers["Authorization"] == f"Bearer {token}"
