"""The Slack adapter: bolt listeners (app), Slack's transports (asgi, http, socket_mode) and Slack's own rules.

Nothing is imported here, so a light module (markup, for the console) does not load bolt. Where things are:
app (listeners, de-duplication, workers), markup (Slack's text -> plain text and typed references), reply
(response_url or one live message), conversation (history for members only), files, links (permalinks),
modals (plugins' forms), interactivity (plugins' shortcuts, feedback buttons), errors (Slack errors as advice),
oauth (several workspaces), home (the App Home tab), recaps (the RecapSource that bot.recaps reads), manifest
(the app manifest from the plugins, with the scopes and events this adapter uses).
"""
