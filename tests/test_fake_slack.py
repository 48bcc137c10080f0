"""The fake Slack refuses what Slack refuses, and a refusal nobody declared fails the test: checked with slack_sdk."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from tests.support.fakeslack import BOT_TOKEN, BOT_USER_ID


def client(fake, token: str = BOT_TOKEN) -> WebClient:
    return WebClient(token=token, base_url=fake.api_url)  # no retry handlers: each refusal comes straight back


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def refusal(call) -> str:
    with pytest.raises(SlackApiError) as refused:
        call()
    return refused.value.response["error"]


def test_an_undeclared_refusal_fails_the_test_and_a_declared_one_does_not(fake_slack):
    slack = client(fake_slack)
    assert refusal(lambda: slack.chat_postMessage(channel="C0NOWHERE", text="hi")) == "channel_not_found"
    with pytest.raises(AssertionError, match="chat.postMessage refused with channel_not_found"):
        fake_slack.check()
    fake_slack.check()  # reported once

    with fake_slack.expect("channel_not_found", on="chat.postMessage") as declared:
        refusal(lambda: slack.chat_postMessage(channel="C0NOWHERE", text="hi"))
    assert [call.body["channel"] for call in declared.calls] == ["C0NOWHERE"]
    with pytest.raises(AssertionError, match="it refused none"):
        with fake_slack.expect("not_in_channel", timeout=0.2):  # declared, never happened: the test learns that
            slack.chat_postMessage(channel="C0GENERAL", text="fine")
    fake_slack.check()


def test_a_response_url_takes_five_posts_and_a_sixth_fails_the_test(fake_slack):
    hook = WebhookClient(fake_slack.response_url("five"))
    assert [hook.send(text=f"post {n}").status_code for n in range(5)] == [200] * 5
    assert hook.send(text="one too many").status_code == 404
    with pytest.raises(AssertionError, match="/response/five refused with used_url"):
        fake_slack.check()


def test_wait_for_returns_only_what_slack_accepted(fake_slack):
    with fake_slack.expect("channel_not_found"):
        refusal(lambda: client(fake_slack).chat_postMessage(channel="C0NOWHERE", text="lost"))
    with pytest.raises(AssertionError, match="refused: channel_not_found"):
        fake_slack.wait_for("/api/chat.postMessage", timeout=0.3)
    client(fake_slack).chat_postMessage(channel="C0GENERAL", text="seen")
    [accepted] = fake_slack.wait_for("/api/chat.postMessage", timeout=5)
    assert accepted.body["text"] == "seen" and accepted.status == 200 and accepted.error is None


def test_tokens_are_checked_per_workspace_and_a_revoked_one_stops_working(fake_slack):
    assert client(fake_slack).auth_test()["team_id"] == "T0001"
    fake_slack.add_team("T0002", "xoxb-second", bot_user_id="UBOT0002")
    second = client(fake_slack, "xoxb-second")
    assert second.auth_test()["user_id"] == "UBOT0002"
    assert second.chat_postMessage(channel="C0GENERAL", text="from two")["ok"]
    assert fake_slack.wait_for("/api/chat.postMessage")[0].team == "T0002"

    fake_slack.revoke("xoxb-second")
    with fake_slack.expect("token_revoked", "invalid_auth", "not_authed") as refused:
        assert refusal(lambda: second.chat_postMessage(channel="C0GENERAL", text="again")) == "token_revoked"
        assert refusal(lambda: client(fake_slack, "xoxb-never-issued").auth_test()) == "invalid_auth"
        assert refusal(lambda: WebClient(base_url=fake_slack.api_url).auth_test()) == "not_authed"
    assert len(refused.calls) == 3
    assert client(fake_slack).auth_test()["ok"]  # the other workspace is untouched


@pytest.mark.parametrize(("blocks", "text", "error", "pointer"), [
    ([section("x")] * 51, "t", "invalid_blocks", "/blocks"),
    ([section("x" * 3001)], "t", "invalid_blocks", "/blocks/0/text/text"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "t", "invalid_blocks", "/blocks/0/text/text"),
    ([{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b"},
                                        "action_id": f"a{n}"} for n in range(26)]}], "t", "invalid_blocks",
     "/blocks/0/elements"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "t", "invalid_blocks", "/blocks/0/fields"),
    ([section("")], "t", "invalid_blocks", "/blocks/0/text/text"),
    (None, "x" * 40_001, "msg_too_long", None),
])
def test_a_message_past_block_kits_limits_is_refused_as_slack_refuses_it(fake_slack, blocks, text, error, pointer):
    slack = client(fake_slack)
    with fake_slack.expect(error, on="chat.postMessage") as refused:
        assert refusal(lambda: slack.chat_postMessage(channel="C0GENERAL", text=text, blocks=blocks)) == error
    if pointer:
        assert any(f"[json-pointer:{pointer}]" in problem for problem in refused.calls[0].answer["errors"])
    at_limit = [section("x" * 3000)] * 50
    assert slack.chat_postMessage(channel="C0GENERAL", text="y" * 40_000, blocks=at_limit)["ok"]
    assert fake_slack.posts("C0GENERAL")[-1]["blocks"] == at_limit


def test_the_same_limits_hold_at_a_response_url_in_a_modal_and_on_the_home_tab(fake_slack):
    hook = WebhookClient(fake_slack.response_url("limits"))
    with fake_slack.expect("invalid_blocks", on="/response/limits"):
        assert hook.send(text="t", blocks=[section("x")] * 51).status_code == 400
    assert hook.send(text="t", blocks=[section("x")] * 50).status_code == 200

    slack = client(fake_slack)
    with fake_slack.expect("invalid_arguments", on="views.publish"):
        refusal(lambda: slack.views_publish(user_id="UUSER001", view={"type": "home", "blocks": [section("x")] * 101}))
    assert slack.views_publish(user_id="UUSER001", view={"type": "home", "blocks": [section("x")] * 100})["ok"]
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "A title far too long for a modal"},
             "blocks": [section("x")]}
    with fake_slack.expect("invalid_arguments", on="views.open"):
        refusal(lambda: slack.views_open(trigger_id=fake_slack.trigger_id(), view=modal))


def test_a_trigger_opens_one_view_and_an_ephemeral_reaches_only_members(fake_slack):
    slack = client(fake_slack)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Index files"}, "blocks": [section("x")]}
    trigger = fake_slack.trigger_id()
    assert slack.views_open(trigger_id=trigger, view=modal)["ok"]
    with fake_slack.expect("exchanged_trigger_id", "user_not_in_channel"):
        assert refusal(lambda: slack.views_open(trigger_id=trigger, view=modal)) == "exchanged_trigger_id"
        assert refusal(lambda: slack.chat_postEphemeral(channel="C0GENERAL", user="UOUTSIDE", text="psst")) == \
            "user_not_in_channel"
        assert refusal(lambda: slack.chat_postEphemeral(channel="DUSER001", user="UOTHER01", text="psst")) == \
            "user_not_in_channel"
    fake_slack.join("C0GENERAL", "UOUTSIDE")
    assert slack.chat_postEphemeral(channel="C0GENERAL", user="UOUTSIDE", text="psst")["ok"]
    assert slack.chat_postEphemeral(channel="DUSER001", user="UUSER001", text="psst")["ok"]


def test_only_the_bots_own_messages_can_be_updated(fake_slack):
    slack = client(fake_slack)
    fake_slack.history["C0GENERAL"] = [{"type": "message", "user": "UUSER001", "ts": "1700000001.000100", "text": "mine"}]
    with fake_slack.expect("cant_update_message", "message_not_found") as refused:
        refusal(lambda: slack.chat_update(channel="C0GENERAL", ts="1700000001.000100", text="edited by the bot"))
        refusal(lambda: slack.chat_update(channel="C0GENERAL", ts="1.2", text="nothing there"))
    assert [call.error for call in refused.calls] == ["cant_update_message", "message_not_found"]
    posted = slack.chat_postMessage(channel="C0GENERAL", text="first")
    assert slack.chat_update(channel="C0GENERAL", ts=posted["ts"], text="second")["ok"]
    [message] = fake_slack.posts("C0GENERAL")
    assert message["text"] == "second" and message["user"] == BOT_USER_ID


def raw_post(url: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=json.dumps({"channel": "C0GENERAL", "text": "hi"}).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {BOT_TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_a_retry_sooner_than_retry_after_is_a_violation(fake_slack):
    url = fake_slack.api_url + "chat.postMessage"
    fake_slack.fail("/api/chat.postMessage", status=429, retry_after=1)
    status, headers = raw_post(url)
    assert status == 429 and headers["Retry-After"] == "1"  # declared by fail(): not a violation
    fake_slack.check()
    assert raw_post(url)[0] == 429  # at once: Slack is still limiting, and the test fails
    with pytest.raises(AssertionError, match=r"called again 0\.\d+ s after a 429 that said Retry-After: 1"):
        fake_slack.check()
    time.sleep(1.05)
    assert raw_post(url)[0] == 200
    fake_slack.check()
