"""Which chat sentences read as decisions or questions: rules, measured on sentences.jsonl beside them (scores.py)."""

from __future__ import annotations

import re

_WE = r"(?:we|we've|we have|the team|everyone|all of us|the board|the \w+ group|\w+ and \w+)"
# Rules written before the data, then tuned on its dev split only (bench/recaps.md has both measurements). Held out
# (the test split, 63 sentences; `python -m bot.recaps.scores`): decisions P 1.00 R 0.90, questions P 1.00 R 1.00.
DECISION = re.compile("|".join([
    r"^(?:(?:ok|okay|alright|so|yes|fine)[,.]?\s+)*(?:agreed|approved|confirmed|decided|decision|final call|"
    r"done deal|plan of record|rule from today)(?!\w)",  # a marker opening the sentence: "Decision: ..."
    _WE + r"\s+(?:\w+\s+)?(?:decided|agreed|chose|settled|picked|committed|approved|landed on|ruled out|signed off)",
    r"\blet'?s\s+(?!see\b|discuss|talk|chat|sync|meet|check|wait|think|know|hope|try)\w+",  # a proposal taken up
    r"\bwe(?:'ll| will|'re| are)\s+(?:going with|go with|use|ship|switch|keep|drop|deprecate|postpone|roll|launch|"
    r"moving|rename|renaming|switching|keeping|dropping|launching|shipping)",
    r"\b(?:going forward|from now on|effective immediately|the plan is|it'?s (?:settled|decided)|ship it|"
    r"green ?light|signed off|consensus (?:is|was)|moving (?:ahead|forward) with|going with)\b",
]), re.IGNORECASE)
_ASKING = re.compile(
    r"^(?:(?:so|and|but|ok|okay|hey|also|quick question)[,:]?\s+)*(?:who|what|when|where|why|how|which|"
    r"can|could|should|would|shall|does|do|did|is|are|was|were|will|has|have|any(?:one|body)?|is there|"
    r"does anyone|wondering|do we)\b", re.IGNORECASE)
_NOT_ASKING = re.compile(r"\b(?:no idea|not sure why|wondering if i|i wonder)\b", re.IGNORECASE)


def is_question(sentence: str) -> bool:
    """A question mark, or a question's opening words with no full stop (chat often drops the mark)."""
    text = sentence.strip()
    if text.endswith("?"):
        return True
    return bool(_ASKING.match(text)) and not text.endswith((".", "!")) and not _NOT_ASKING.search(text)


def label(sentence: str) -> str:
    """ "question", "decision" or "other"; "did we decide on X?" asks, so questions win."""
    if is_question(sentence):
        return "question"
    return "decision" if DECISION.search(sentence) else "other"
