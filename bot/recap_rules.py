"""Which chat sentences read as decisions or questions: rules, measured on bench/data/recap_sentences.jsonl."""

from __future__ import annotations

import re

DECISION = re.compile(
    r"\b(?:we(?:'ve| have)? (?:just )?(?:decided|agreed|chose|settled|picked|committed)"
    r"|decided (?:to|on|that|against)|decision(?: is|'s)?:|final (?:call|decision|answer)|"
    r"let'?s (?:go with|go ahead|do it|ship|stick with|use|keep|move forward|not)|"
    r"we(?:'ll| will| are going to|'re going to) (?:go with|use|ship|move|switch|stick|keep|drop|postpone|launch)|"
    r"going (?:forward )?with|agreed|approved|signed off|sign-off|it'?s settled|settled on|ship it|"
    r"green ?light|consensus (?:is|was)|moving forward with|we'?re (?:going|moving) (?:with|ahead))\b",
    re.IGNORECASE)
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
