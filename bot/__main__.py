"""`python -m bot` runs the nlpbot command line."""

from bot.cli import main

raise SystemExit(main())
