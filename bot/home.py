"""The App Home tab: admins see plugins, serving versions, metrics and the next jobs; everyone else sees help."""

from __future__ import annotations

from typing import Any

from bot import registry
from bot.reply import Reply


def home_view(bot: Any, user_id: str) -> Reply:
    if user_id not in bot.config.bot.admins:
        return bot.router.help()
    lines = []
    for name, plugin in sorted(bot.plugins.items()):
        spec = plugin.settings.model or "-"
        line = f"*{name}* — model `{spec}`"
        if plugin.training_kind:
            versions = registry.list_versions(bot.config.models_dir, name)
            serving = next((v for v in versions if v.serving), None)
            if serving:
                metrics = serving.metadata.get("metrics") or {}
                primary = serving.metadata.get("primary_metric")
                score = metrics.get(primary) if primary else None
                line += f", serving `{serving.version}`" + (f" ({primary} {score:.3f})" if isinstance(score, float) else "")
            else:
                line += ", no trained version"
        lines.append(line)
    scheduler = bot.services.extras.get("scheduler")
    if scheduler is not None:
        from bot.scheduler import jobs_table

        lines.append(f"```\n{jobs_table(scheduler.describe())}\n```")
    return Reply(title=f"{bot.config.bot.name}: admin overview", text="\n".join(lines),
                 footer="`/nlp-admin models`, `/nlp-admin train PLUGIN`, `/nlp-admin rollback PLUGIN`, "
                        "`/nlp-admin reindex`")
