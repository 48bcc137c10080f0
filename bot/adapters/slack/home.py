"""The App Home tab: admins see plugins, serving versions, metrics and the next jobs; everyone else sees help."""

from __future__ import annotations

from typing import Any

from bot.models import versions
from bot.reply import Reply


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

        lines.append(f"```\n{jobs_table(bot.services.scheduler.describe())}\n```")
    admin = [f"`/{name}`" for name, (_, spec) in sorted(bot.router.commands.items()) if spec.admin_only]
    return Reply(title=f"{bot.config.bot.name}: admin overview", text="\n".join(lines),
                 footer=f"Admin commands: {', '.join(admin) or 'none'} (`/nlp help COMMAND` for each)")
