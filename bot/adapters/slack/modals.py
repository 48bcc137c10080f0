"""A plugin's `Form` as a Slack modal, and a submitted modal as the command it stands for.

Slack sends no files with slash commands, so a command typed as a form declares (a bare `/index`, `/nlp-admin
train`) opens a modal with the form's inputs, a `file_input` for files; its submission runs the command with them.
The modal carries which form it is in `private_metadata`; its values are read by input name (each input's block).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.declarations import Form, Input

CALLBACK_ID = "nlpbot_form"
TITLE_CHARS = 24  # a modal's title, submit and close texts (Block Kit)
OPTIONS = 100  # a static_select's options
OPTION_CHARS = 75  # an option's text
MAX_FILES = 10


@dataclass(frozen=True)
class Submission:
    """What a submitted modal asks for: the form (its command and `opens_on`), the values by input, the files."""

    command: str
    opens_on: str
    values: dict[str, str]
    files: list[dict[str, Any]]


def _plain(text: str, limit: int | None = None) -> dict[str, str]:
    return {"type": "plain_text", "text": text if limit is None or len(text) <= limit else text[:limit - 1] + "…"}


def _element(field: Input) -> dict[str, Any]:
    if field.kind == "files":
        return {"type": "file_input", "action_id": field.name, "max_files": MAX_FILES}
    if field.kind == "choice":
        options = [{"text": _plain(choice, OPTION_CHARS), "value": choice} for choice in field.choices[:OPTIONS]]
        chosen = next((option for option in options if option["value"] == field.initial), options[0] if options else None)
        return {"type": "static_select", "action_id": field.name, "options": options,
                **({"initial_option": chosen} if chosen else {})}
    return {"type": "plain_text_input", "action_id": field.name, **({"initial_value": field.initial} if field.initial else {})}


def modal(form: Form) -> dict[str, Any]:
    """The view `views.open` shows for a form."""
    blocks = []
    for field in form.inputs:
        block = {"type": "input", "block_id": field.name, "optional": field.optional, "element": _element(field),
                 "label": _plain(field.label, 2000)}
        blocks.append({**block, "hint": _plain(field.hint, 2000)} if field.hint else block)
    return {"type": "modal", "callback_id": CALLBACK_ID, "title": _plain(form.title, TITLE_CHARS),
            "submit": _plain(form.submit, TITLE_CHARS), "close": _plain("Cancel"),
            "private_metadata": json.dumps({"command": form.command, "opens_on": form.opens_on}), "blocks": blocks}


def _value(action: dict[str, Any]) -> str:
    if action.get("type") == "static_select":
        return str((action.get("selected_option") or {}).get("value") or "")
    return str(action.get("value") or "")


def submission(view: dict[str, Any]) -> Submission:
    """The form a submitted view stands for, its values by input name and its files (Slack file objects)."""
    try:
        which = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        which = {}
    values: dict[str, str] = {}
    files: list[dict[str, Any]] = []
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for action in (actions or {}).values():  # one element per input block, whatever its action_id
            if not isinstance(action, dict):
                continue
            if action.get("type") == "file_input":
                files += [item for item in action.get("files") or [] if isinstance(item, dict)]
            else:
                values[str(block_id)] = _value(action)
    which = which if isinstance(which, dict) else {}
    return Submission(str(which.get("command") or ""), str(which.get("opens_on") or ""), values, files)
