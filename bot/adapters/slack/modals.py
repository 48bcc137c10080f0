"""Modals for work that takes files: Slack sends no files with slash commands, so `/index` and `/nlp-admin train`
with nothing after them open a form with a `file_input`; its submission runs the command with those files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

INDEX = "nlpbot_index"
TRAIN = "nlpbot_train"


@dataclass(frozen=True)
class Submission:
    """What a submitted modal asks for: the command text to run and the Slack file objects it carries."""

    text: str
    files: list[dict[str, Any]]


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = "") -> dict:
    block = {"type": "input", "block_id": block_id, "optional": optional, "element": element,
             "label": {"type": "plain_text", "text": label}}
    return {**block, "hint": {"type": "plain_text", "text": hint}} if hint else block


def _file_input(*, optional: bool, hint: str) -> dict:
    return _input("files", "Files", {"type": "file_input", "action_id": "files", "max_files": 10},
                  optional=optional, hint=hint)


def _modal(callback_id: str, title: str, submit: str, blocks: list[dict]) -> dict:
    return {"type": "modal", "callback_id": callback_id, "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": submit}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks}


def index_modal(default_index: str) -> dict:
    name = {"type": "plain_text_input", "action_id": "name", "initial_value": default_index}
    return _modal(INDEX, "Index files", "Index", [
        _input("index", "Index", name, hint="the index the files are added to (`/ask in:NAME`)"),
        _file_input(optional=False, hint="Markdown, text, HTML or PDF; I report in a DM when they are indexed"),
    ])


def train_modal(plugins: list[str]) -> dict:
    options = [{"text": {"type": "plain_text", "text": name}, "value": name} for name in plugins]
    select = {"type": "static_select", "action_id": "plugin", "options": options,
              **({"initial_option": options[0]} if options else {})}
    return _modal(TRAIN, "Retrain a model", "Train", [
        _input("plugin", "Plugin", select),
        _file_input(optional=True, hint="training data (JSON lines; CoNLL for ner); none: the data in config.toml"),
    ])


def modal_for(command: str, text: str, *, default_index: Callable[[], str],
              trainable: Callable[[], list[str]]) -> dict | None:
    """The modal a bare `/index` or `/nlp-admin train` opens; None for every other command."""
    words = text.split()
    if command == "index" and not words:
        return index_modal(default_index())
    if command == "nlp-admin" and [word.lower() for word in words] == ["train"]:
        return train_modal(trainable())
    return None


def submission(view: dict[str, Any]) -> Submission:
    """The command a submitted modal stands for, e.g. `index in:docs` with its files."""
    values = (view.get("state") or {}).get("values") or {}
    files = list(((values.get("files") or {}).get("files") or {}).get("files") or [])
    if view.get("callback_id") == INDEX:
        name = ((values.get("index") or {}).get("name") or {}).get("value") or ""
        return Submission(f"index in:{name.strip()}" if name.strip() else "index", files)
    selected = ((values.get("plugin") or {}).get("plugin") or {}).get("selected_option") or {}
    return Submission(f"nlp-admin train {selected.get('value', '')}".strip(), files)
