"""The App Home tab: admins see plugins, serving versions, metrics and the next jobs; everyone else sees help.

Slack refuses a Home tab of more than 100 blocks, so the tab lists the next JOBS_SHOWN jobs and says how many
more there are, and `home_blocks` ends a tab that would still be too long with a line saying what was left out.
"""

from __future__ import annotations

from typing import Any

from bot.format import to_blocks
from bot.models import versions
from bot.reply import Reply

HOME_BLOCKS = 100  # Slack: a Home tab (and a modal) holds at most 100 blocks
JOBS_SHOWN = 25  # the next runs first; the admin commands list every job


def home_view(bot: Any, user_id: str) -> Reply:
    if user_id not in bot.config.bot.admins:
        return bot.router.help()
    lines = []
    for name, plugin in sorted(bot.plugins.items()):
        spec = plugin.settings.model or "-"
        line = f"*{name}* — model `{spec}`"
        if plugin.training_kind:
            serving = next((v for v in versions.list_versions(bot.config.models_dir, name) if v.serving), None)
            if serving:
                line += f", serving `{serving.version}` ({versions.metric_summary(serving.metadata, limit=1)})"
            else:
                line += ", no trained version"
        lines.append(line)
    if bot.services.scheduler_running:
        from bot.scheduler import jobs_table

        jobs = sorted(bot.services.scheduler.describe(), key=lambda job: (job.next_run is None, job.next_run or 0, job.id))
        lines.append(f"```\n{jobs_table(jobs[:JOBS_SHOWN])}\n```")
        if len(jobs) > JOBS_SHOWN:
            lines.append(f"…and {len(jobs) - JOBS_SHOWN} more jobs (the admin commands below list every job).")
    admin = [f"`/{name}`" for name, (_, spec) in sorted(bot.router.commands.items()) if spec.admin_only]
    return Reply(title=f"{bot.config.bot.name}: admin overview", text="\n".join(lines),
                 footer=f"Admin commands: {', '.join(admin) or 'none'} (`/nlp help COMMAND` for each)")


def home_blocks(reply: Reply) -> list[dict[str, Any]]:
    """The reply's blocks within the Home tab's 100; past that, the last block says how much was left out."""
    blocks = to_blocks(reply)
    if len(blocks) <= HOME_BLOCKS:
        return blocks
    left_out = len(blocks) - (HOME_BLOCKS - 1)
    note = (f"…{left_out} more sections do not fit in the Home tab (Slack shows {HOME_BLOCKS} blocks); "
            "`/nlp help` and the admin commands show everything.")
    return [*blocks[:HOME_BLOCKS - 1], {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]
