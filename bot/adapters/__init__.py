"""Adapters: how people reach the bot. console.py (a terminal, `nlpbot ask`) and slack/ (the Slack adapter)."""
