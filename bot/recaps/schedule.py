"""When a recap comes: `daily 09:00` or `weekly mon 09:00` parsed, and the period a first recap looks back over."""

from __future__ import annotations

import re

from bot.config import JobSpec
from bot.errors import UserInputError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIOD_S = {"daily": 24 * 3600, "weekly": 7 * 24 * 3600}  # what a first recap covers: one period back
USAGE = ("/summarize subscribe #channel daily 09:00  |  /summarize subscribe #channel weekly mon 09:00 [--verbose]  |  "
         "/summarize unsubscribe #channel  |  /summarize list")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_schedule(words: list[str]) -> tuple[str, str, str, bool]:
    """`daily 09:00` or `weekly mon 09:00`, optionally `--verbose`: (frequency, day, "HH:MM", verbose)."""
    verbose = "--verbose" in words
    words = [word.lower() for word in words if word not in {"--verbose", "--quiet"}]
    if words[:1] == ["daily"] and len(words) == 2:
        frequency, day, at = "daily", "", words[1]
    elif words[:1] == ["weekly"] and len(words) == 3 and words[1][:3] in DAYS:
        frequency, day, at = "weekly", words[1][:3], words[2]
    else:
        raise UserInputError(f"When should the recap come? `{USAGE}`")
    match = _TIME.match(at)
    if not match:
        raise UserInputError(f"{at!r} is not a time of day: use 24-hour HH:MM, like 09:00 or 17:30.")
    return frequency, day, f"{int(match.group(1)):02d}:{match.group(2)}", verbose


def frequency(spec: JobSpec) -> str:
    """"weekly" for a job on one weekday, else "daily": how far back its first recap looks (PERIOD_S)."""
    weekday = spec.cron.split()[-1]
    return "weekly" if weekday != "*" and not any(mark in weekday for mark in ",-/") else "daily"
