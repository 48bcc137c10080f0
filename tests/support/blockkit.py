"""Slack's documented Block Kit and message limits, as the fake Slack enforces them (api.slack.com/reference/block-kit).

`problems(...)` lists what Slack would refuse in a message, a modal or a Home tab, each with Slack's JSON pointer
(`must be less than 3001 characters [json-pointer:/blocks/0/text/text]`); an empty list means Slack accepts it.
"""

from __future__ import annotations

from typing import Any

MESSAGE_TEXT_CHARS = 40_000  # chat.postMessage's `text`: longer is `msg_too_long`
BLOCKS = {"message": 50, "modal": 100, "home": 100}
TEXT_CHARS = 3000  # any text object (a section's text, a context element)
FIELD_CHARS, FIELDS = 2000, 10  # a section's fields
HEADER_CHARS = 150
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
BUTTON_TEXT_CHARS, BUTTON_VALUE_CHARS = 75, 2000
OPTIONS, OPTION_TEXT_CHARS, OPTION_VALUE_CHARS = 100, 75, 150
PLACEHOLDER_CHARS = 150
ID_CHARS = 255  # block_id, action_id, callback_id
VIEW_TITLE_CHARS = 24  # a modal's title, submit and close
INPUT_LABEL_CHARS = HINT_CHARS = 2000
MAX_FILES = 10


def problems(blocks: Any, *, surface: str = "message", view: dict[str, Any] | None = None) -> list[str]:
    """What Slack refuses in `blocks` shown on `surface` ("message", "modal" or "home"); [] when it is valid."""
    found: list[str] = []
    base = "/view/blocks" if surface != "message" else "/blocks"
    if view is not None:
        _view(view, surface, found)
    if blocks in (None, ""):
        return found
    if not isinstance(blocks, list):
        return [*found, f"must be an array [json-pointer:{base}]"]
    if len(blocks) > BLOCKS[surface]:
        found.append(f"must be at most {BLOCKS[surface]} items [json-pointer:{base}]")
    for index, block in enumerate(blocks):
        _block(block, f"{base}/{index}", surface, found)
    return found


def _view(view: dict[str, Any], surface: str, found: list[str]) -> None:
    if view.get("type") != surface:
        found.append(f"must be `{surface}` [json-pointer:/view/type]")
    if surface == "modal":
        _text(view.get("title"), "/view/title", found, limit=VIEW_TITLE_CHARS, plain=True)
        for key in ("submit", "close"):
            if key in view:
                _text(view[key], f"/view/{key}", found, limit=VIEW_TITLE_CHARS, plain=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            found.append("a view with input blocks needs a submit button [json-pointer:/view/submit]")
    _length(view.get("callback_id"), "/view/callback_id", ID_CHARS, found)


def _block(block: Any, at: str, surface: str, found: list[str]) -> None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        found.append(f"must be an object with a type [json-pointer:{at}]")
        return
    kind = block["type"]
    _length(block.get("block_id"), f"{at}/block_id", ID_CHARS, found)
    if kind == "section":
        if "text" not in block and "fields" not in block:
            found.append(f"must define either `text` or `fields` [json-pointer:{at}]")
        if "text" in block:
            _text(block["text"], f"{at}/text", found, limit=TEXT_CHARS)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > FIELDS:
                found.append(f"must be at most {FIELDS} items [json-pointer:{at}/fields]")
            for number, item in enumerate(fields if isinstance(fields, list) else []):
                _text(item, f"{at}/fields/{number}", found, limit=FIELD_CHARS)
        if "accessory" in block:
            _element(block["accessory"], f"{at}/accessory", found)
    elif kind == "header":
        _text(block.get("text"), f"{at}/text", found, limit=HEADER_CHARS, plain=True)
    elif kind == "context":
        _elements(block.get("elements"), f"{at}/elements", CONTEXT_ELEMENTS, found, text_only=True)
    elif kind == "actions":
        _elements(block.get("elements"), f"{at}/elements", ACTIONS_ELEMENTS, found)
    elif kind == "input":
        if surface == "message":
            found.append(f"input blocks belong in modals and the Home tab [json-pointer:{at}]")
        _text(block.get("label"), f"{at}/label", found, limit=INPUT_LABEL_CHARS, plain=True)
        if "hint" in block:
            _text(block["hint"], f"{at}/hint", found, limit=HINT_CHARS, plain=True)
        _element(block.get("element"), f"{at}/element", found)
    elif kind not in ("divider", "image", "rich_text", "file", "video"):
        found.append(f"unknown block type `{kind}` [json-pointer:{at}/type]")


def _elements(elements: Any, at: str, limit: int, found: list[str], *, text_only: bool = False) -> None:
    if not isinstance(elements, list) or not elements:
        found.append(f"must be a non-empty array [json-pointer:{at}]")
        return
    if len(elements) > limit:
        found.append(f"must be at most {limit} items [json-pointer:{at}]")
    for index, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") == "image":
            continue
        if text_only or (isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text")):
            _text(element, f"{at}/{index}", found, limit=TEXT_CHARS)
        else:
            _element(element, f"{at}/{index}", found)


def _element(element: Any, at: str, found: list[str]) -> None:
    if not isinstance(element, dict):
        found.append(f"must be an object [json-pointer:{at}]")
        return
    _length(element.get("action_id"), f"{at}/action_id", ID_CHARS, found)
    if "placeholder" in element:
        _text(element["placeholder"], f"{at}/placeholder", found, limit=PLACEHOLDER_CHARS, plain=True)
    kind = element.get("type")
    if kind == "button":
        _text(element.get("text"), f"{at}/text", found, limit=BUTTON_TEXT_CHARS, plain=True)
        _length(element.get("value"), f"{at}/value", BUTTON_VALUE_CHARS, found)
    elif kind == "static_select":
        options = element.get("options")
        if not isinstance(options, list) or not options or len(options) > OPTIONS:
            found.append(f"must be 1 to {OPTIONS} options [json-pointer:{at}/options]")
        for index, option in enumerate(options if isinstance(options, list) else []):
            where = f"{at}/options/{index}"
            _text((option or {}).get("text"), f"{where}/text", found, limit=OPTION_TEXT_CHARS, plain=True)
            _length((option or {}).get("value"), f"{where}/value", OPTION_VALUE_CHARS, found)
    elif kind == "file_input" and int(element.get("max_files", 10)) > MAX_FILES:
        found.append(f"must be at most {MAX_FILES} [json-pointer:{at}/max_files]")


def _text(text: Any, at: str, found: list[str], *, limit: int, plain: bool = False) -> None:
    if not isinstance(text, dict) or text.get("type") not in (("plain_text",) if plain else ("plain_text", "mrkdwn")):
        found.append(f"must be a {'plain_text' if plain else 'text'} object [json-pointer:{at}]")
        return
    value = text.get("text")
    if not isinstance(value, str) or not value:
        found.append(f"must be more than 0 characters [json-pointer:{at}/text]")
    elif len(value) > limit:
        found.append(f"must be less than {limit + 1} characters [json-pointer:{at}/text]")


def _length(value: Any, at: str, limit: int, found: list[str]) -> None:
    if isinstance(value, str) and len(value) > limit:
        found.append(f"must be less than {limit + 1} characters [json-pointer:{at}]")
