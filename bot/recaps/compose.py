"""What a recap says: a summary, the busiest threads, decisions and open questions, each line linked to its message."""

from __future__ import annotations

from typing import Any, Callable

from bot.format import escape
from bot.recaps.rules import label
from bot.recaps.source import Activity
from bot.reply import Reply
from bot.request import Message
from bot.text import split_sentences

BUSIEST = 3  # threads shown
ITEMS = 5  # decisions, and open questions, shown at most
Link = Callable[[str, str, str], str]  # (channel, ts, label) -> a link to the message, "" if none


def compose(activity: Activity, where: str, *, since: str, summarizer: Any, link: Link) -> Reply:
    """The summary, the busiest threads, decisions and open questions; every line links to its message."""
    cid = activity.channel_id
    replies = [reply for thread in activity.threads.values() for reply in thread]
    everything = sorted(activity.messages + replies, key=lambda m: float(m.ts))
    lines: list[str] = []
    sources: list[str] = []

    def item(text: str, ts: str) -> str:
        sources.append(ts)
        return f"• {escape(_short(text))} {link(cid, ts, 'link')}".rstrip()

    if summarizer is not None:
        result = summarizer.summarize_messages(everything)
        if result["sentences"]:
            lines += ["*Summary*", *(item(s["text"], s["ts"]) for s in result["sentences"])]
        elif result["summary"]:
            lines += ["*Summary*", escape(result["summary"])]
    parents = {**activity.parents, **{m.ts: m for m in activity.messages}}  # a thread may predate the window
    busiest = sorted((ts for ts in activity.threads if ts in parents), key=lambda ts: -len(activity.threads[ts]))
    if busiest:
        lines += ["", "*Busiest threads*"]
        lines += [f"{item(parents[ts].text, ts)} ({len(activity.threads[ts])} new replies)" for ts in busiest[:BUSIEST]]
    decisions, questions = _decisions_and_questions(activity, everything)
    for title, found in (("Decisions", decisions), ("Open questions", questions)):
        if found:
            lines += ["", f"*{title}*", *(item(text, ts) for text, ts in found[:ITEMS])]
    return Reply(title=f"Recap of {where}", text="\n".join(lines).strip() or f"{len(everything)} new message(s).",
                 footer=f"{len(everything)} new message(s) since {since}" + (f". {activity.missing}" if activity.missing
                                                                             else ""),
                 data={"channel": cid, "messages": len(everything), "message_refs": [{"channel": cid, "ts": ts}
                                                                                 for ts in dict.fromkeys(sources)]})


def _decisions_and_questions(activity: Activity, everything: list[Message]) -> tuple[list, list]:
    """Sentences that read as decisions, and questions nobody answered in their thread (nor after them in it)."""
    last_in_thread = {thread[-1].ts for thread in activity.threads.values()}
    in_threads = {reply.ts for thread in activity.threads.values() for reply in thread}
    decisions, questions = [], []
    for message in everything:
        unanswered = message.ts not in activity.threads and (message.ts not in in_threads or
                                                             message.ts in last_in_thread)
        for sentence in split_sentences(message.text):
            kind = label(sentence)
            if kind == "decision":
                decisions.append((sentence, message.ts))
            elif kind == "question" and unanswered:
                questions.append((sentence, message.ts))
    return decisions, questions


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
