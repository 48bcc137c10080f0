"""Where batch work runs: `local` (this process, the default) or `ray` (a Ray cluster; `pip install nlpbot[ray]`).

Both read and write through `bot.engines.stream`; only the model calls move (`bot.engines.ray`).
"""

ENGINES = ("local", "ray")


def add_engine_arguments(parser) -> None:
    """`--engine local|ray [--ray-address ADDR]` for a batch command."""
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: this process (default); ray: a Ray cluster (pip install 'nlpbot[ray]')")
    parser.add_argument("--ray-address", metavar="ADDR", help="the Ray cluster (host:port); default: a local Ray")
