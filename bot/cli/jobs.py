"""`nlpbot jobs list|run ID`: the scheduled re-indexing, retraining and recap jobs, shown or run now."""

from __future__ import annotations

import argparse
import json

from bot.bootstrap import bootstrap
from bot.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    jobs = subparsers.add_parser("jobs", help="scheduled re-indexing, retraining and recaps: list, or run one now")
    jobs.add_argument("action", choices=["list", "run"])
    jobs.add_argument("id", nargs="?")
    jobs.add_argument("--json", action="store_true", help='list: a JSON list of {"id", "action", "target", "cron", '
                                                          '"timezone", "next_run" (in that timezone), "last_run", '
                                                          '"last_status", "last_message"}')
    jobs.set_defaults(handler=cmd_jobs)


def cmd_jobs(args: argparse.Namespace) -> int:
    from bot.scheduler import Scheduler, jobs_table

    config = bootstrap(args.config)
    if args.action == "run":
        if not args.id:
            raise UsageError("usage: nlpbot jobs run ID")
        from bot.cli.run import slack_recaps
        from bot.core import Nlpbot

        print(Nlpbot(config, recap_source=slack_recaps).services.scheduler.run_now(args.id))
        return 0
    jobs = Scheduler(config).describe()
    print(json.dumps([job.to_dict() for job in jobs]) if args.json else jobs_table(jobs))
    return 0
