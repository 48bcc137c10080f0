"""`nlpbot index add|remove|drop|list|stats|eval` and `nlpbot search`: the document search commands."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from bot.bootstrap import bootstrap
from bot.search.manager import IndexManager


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `index` and `search` to the nlpbot command line (bot.cli calls this)."""
    index = subparsers.add_parser("index", help="build and inspect document indexes")
    actions = index.add_subparsers(dest="index_action", required=True, metavar="add|remove|drop|list|stats|eval")
    add = actions.add_parser("add", help="index files and folders (again: only what changed)")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--no-progress", action="store_true", help="no progress bar")
    add.set_defaults(handler=run_add)
    remove = actions.add_parser("remove", help="remove sources (a folder removes everything under it)")
    remove.add_argument("paths", nargs="+", metavar="PATH")
    remove.set_defaults(handler=run_remove)
    drop = actions.add_parser("drop", help="delete an index, files and all (refused while a write holds it)")
    drop.add_argument("name", metavar="NAME")
    drop.set_defaults(handler=run_drop)
    _config_option(drop)
    listing = actions.add_parser("list", help="the indexes, or the sources of --index")
    listing.add_argument("--json", action="store_true", help="a JSON list of names, or of sources")
    listing.set_defaults(handler=run_list)
    stats = actions.add_parser("stats", help="sizes, index kind and ANN recall")
    stats.add_argument("--json", action="store_true", help="one line of JSON (the default is indented JSON)")
    stats.set_defaults(handler=run_stats)
    evaluation = actions.add_parser("eval", help="recall@k, MRR and nDCG@10 on a qrels file")
    evaluation.add_argument("--qrels", required=True, metavar="FILE", help='JSON lines {"query", "relevant": [...]}')
    evaluation.add_argument("--k", type=int, default=10)
    evaluation.set_defaults(handler=run_eval)
    for parser in (add, remove, listing, stats, evaluation):
        parser.add_argument("--index", metavar="NAME", help="index name (default: [search] default_index)")
        _config_option(parser)

    search = subparsers.add_parser("search", help="search an index")
    search.add_argument("query", nargs="+", metavar="QUERY")
    search.add_argument("--index", metavar="NAME")
    search.add_argument("--k", type=int, default=5)
    search.add_argument("--json", action="store_true", help='a JSON list of {"source", "chunk", "score", "text"}')
    search.add_argument("--source", metavar="GLOB", help="only sources matching this glob or prefix")
    search.set_defaults(handler=run_search)
    _config_option(search)


def _config_option(parser: argparse.ArgumentParser) -> None:
    # The top-level parser may define --config too; SUPPRESS keeps its value when it is not repeated here.
    parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file")


def _manager(args: argparse.Namespace, *, with_model: bool, must_exist: bool = False,
             progress: bool | None = None) -> IndexManager:
    config = bootstrap(getattr(args, "config", None))
    manager = IndexManager(config, progress=progress)
    if must_exist:
        manager.require(args.index)  # before loading the model: a wrong name fails fast
    if with_model:
        from bot.models import ModelHub

        manager.embedder = ModelHub(config).sentence_model(
            manager.settings.embedding_model, batch_size=manager.settings.batch_size, what="[search] embedding_model")
    return manager


def run_add(args: argparse.Namespace) -> int:
    manager = _manager(args, with_model=True, progress=False if args.no_progress else None)
    report = manager.open(args.index).add(args.paths)
    indexed = set(report.added + report.updated)
    for problem in report.problems:  # a file with a few undecodable lines is indexed without them
        print(f"{'partly indexed' if problem.source in indexed else 'skipped'} {problem}", file=sys.stderr)
    print(f"{args.index or manager.settings.default_index}: {len(report.added)} added, "
          f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, {len(report.removed)} removed, "
          f"{len(report.problems)} failed; {report.chunks_embedded} chunks embedded")
    return 1 if report.problems else 0  # DESIGN.md: 1 = some inputs failed, the rest were done


def run_remove(args: argparse.Namespace) -> int:
    removed = _manager(args, with_model=False).open(args.index, create=False).remove(args.paths)
    for source in removed:
        print(f"removed {source}")
    if not removed:
        print("nothing removed: no indexed source matches " + ", ".join(args.paths), file=sys.stderr)
    return 0 if removed else 1


def run_drop(args: argparse.Namespace) -> int:
    _manager(args, with_model=False).drop(args.name)
    print(f"dropped index {args.name}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    manager = _manager(args, with_model=False)
    if not args.index:
        if args.json:
            print(json.dumps(manager.names()))
            return 0
        for name in manager.names():
            print(name)
        return 0
    sources = manager.open(args.index, create=False).sources()
    if args.json:
        print(json.dumps(sources, ensure_ascii=False, default=str))
        return 0
    for source in sources:
        added = datetime.fromtimestamp(source["added_at"], tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
        print(f"{source['source']}\t{source['kind']}\t{source['chunks']} chunks\tadded {added} UTC")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    stats = _manager(args, with_model=False).open(args.index, create=False).stats()
    print(json.dumps(stats) if args.json else json.dumps(stats, indent=2))
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from bot.search.evaluate import evaluate, read_qrels

    qrels = read_qrels(args.qrels)
    index = _manager(args, with_model=True, must_exist=True).open(args.index)
    print(json.dumps(evaluate(lambda query, n: index.search(query, n), qrels, k=args.k), indent=2))
    return 0


def run_search(args: argparse.Namespace) -> int:
    index = _manager(args, with_model=True, must_exist=True).open(args.index)
    filters = {"source": args.source} if args.source else None
    hits = index.search(" ".join(args.query), args.k, filters)
    if args.json:
        print(json.dumps([hit.to_dict() for hit in hits], ensure_ascii=False))
        return 0
    if not hits:
        print("no results")
    for rank, hit in enumerate(hits, start=1):
        heading = f" ({hit.extra['heading']})" if hit.extra.get("heading") else ""
        print(f"{rank}. {hit.source}#{hit.chunk}{heading}  score {hit.score:.4f}\n   {' '.join(hit.text.split())[:300]}")
    return 0
