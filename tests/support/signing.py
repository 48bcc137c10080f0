"""Sign requests exactly as Slack does (v0 HMAC-SHA256 over "v0:timestamp:body")."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def signed_headers(secret: str, body: str, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature, "Content-Type": content_type}


def slash_command_body(command: str, text: str, *, user_id: str, channel_id: str, response_url: str,
                       trigger_id: str = "13345224609.738474920.8088930838d88f008e0", team_id: str = "T0001") -> str:
    return urlencode({
        "token": "legacy-verification-token-unused", "team_id": team_id, "team_domain": "example",
        "channel_id": channel_id, "channel_name": "general", "user_id": user_id, "user_name": "someone",
        "command": command, "text": text, "api_app_id": "A0001", "response_url": response_url, "trigger_id": trigger_id,
    })


def event_body(event: dict, *, event_id: str) -> str:
    return json.dumps({
        "token": "unused", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": "T0001", "user_id": "UBOT0001", "is_bot": True}],
    })
