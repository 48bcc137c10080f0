"""Channel recaps: subscriptions, their schedule, what a recap says and the run, over a RecapSource an adapter gives.

Where things are: source (RecapSource, the protocol an adapter implements, and Activity), store (Subscription,
RecapStore: SQLite, or Redis shared by replicas), schedule (`daily 09:00` parsed), subscriptions (`/summarize
subscribe|unsubscribe|list`), compose (summary, threads, decisions, questions), rules and scores (the decision and
question rules, measured on sentences.jsonl), run (one recap run), jobs (what the scheduler runs).
"""

from bot.recaps.compose import compose
from bot.recaps.jobs import recap_action, shown_target, subscription_jobs
from bot.recaps.run import run_recap
from bot.recaps.schedule import USAGE, parse_schedule
from bot.recaps.source import Activity, RecapSource
from bot.recaps.store import RecapStore, Subscription, SubscriptionSpec, open_recap_store
from bot.recaps.subscriptions import listing, respond, subscribe, unsubscribe

__all__ = ["Activity", "RecapSource", "RecapStore", "Subscription", "SubscriptionSpec", "USAGE", "compose",
           "listing", "open_recap_store", "parse_schedule", "recap_action", "respond", "run_recap", "shown_target", "subscribe",
           "subscription_jobs", "unsubscribe"]
