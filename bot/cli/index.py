"""`nlpbot index ...` and `nlpbot search` (long because it is a whole family: one parser, nine small runners)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from bot.bootstrap import bootstrap
from bot.engines import add_engine_arguments
from bot.errors import UsageError

if TYPE_CHECKING:  # imported where used: building the command line must not load FAISS (bot start-up time)
    from bot.search.manager import IndexManager


def register(subparsers: argparse._SubParsersAction) -> None:
    index = subparsers.add_parser("index", help="build and inspect document indexes")
    actions = index.add_subparsers(dest="index_action", required=True,
                                   metavar="add|remove|drop|list|stats|eval|tune|check-int8")
    add = actions.add_parser("add", help="index files and folders (again: only what changed)")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_engine_arguments(add)
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
    evaluation = actions.add_parser("eval", help="recall@k, MRR and nDCG@10 on a qrels file or a BEIR data set")
    given = evaluation.add_mutually_exclusive_group(required=True)
    given.add_argument("--qrels", metavar="FILE", help='JSON lines {"query", "relevant": [...]}')
    given.add_argument("--beir", metavar="DIR", help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv): "
                       "indexed (or reused) as --index, default beir-FOLDER; dense, BM25 and hybrid side by side")
    evaluation.add_argument("--split", default="test", help="the BEIR qrels split (default test)")
    evaluation.add_argument("--k", type=positive, default=10)
    evaluation.add_argument("--json", action="store_true", help="one line of JSON")
    evaluation.set_defaults(handler=run_eval)
    tune = actions.add_parser("tune", help="the fusion weights that score best on a BEIR folder's judged queries")
    tune.add_argument("--beir", metavar="DIR", required=True)
    tune.add_argument("--split", default="train", help="tune on this split (default train), report on another")
    tune.add_argument("--json", action="store_true", help="one line of JSON, with the whole grid")
    tune.set_defaults(handler=run_tune)
    gate = actions.add_parser("check-int8", help="may documents be embedded in int8? nDCG@10 on judged sets, recorded "
                              "for [search] document_quantize")
    gate.add_argument("--beir", metavar="DIR", action="append", required=True, help="a BEIR folder; repeat for more")
    gate.add_argument("--split", default="test", help="the qrels split (default test)")
    gate.add_argument("--max-drop", type=float, default=None, help="nDCG@10 int8 may lose on any set (default 0.005)")
    gate.add_argument("--json", action="store_true", help="one line of JSON")
    gate.set_defaults(handler=run_check_int8)
    _config_option(gate)
    for parser in (add, remove, listing, stats, evaluation, tune):
        parser.add_argument("--index", metavar="NAME", help="index name (default: [search] default_index)")
        _config_option(parser)

    search = subparsers.add_parser("search", help="search an index")
    search.add_argument("query", nargs="+", metavar="QUERY")
    search.add_argument("--index", metavar="NAME")
    search.add_argument("--k", type=positive, default=5, help="how many passages (default 5)")
    search.add_argument("--json", action="store_true", help='a JSON list of {"source", "chunk", "score", "text"}')
    search.add_argument("--source", metavar="GLOB", help="only sources matching this glob or prefix")
    search.set_defaults(handler=run_search)
    _config_option(search)


def positive(text: str) -> int:
    """A count of 1 or more (`--k 0` asks for nothing: a usage error, not "no results")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: give 1 or more")
    return value


def _config_option(parser: argparse.ArgumentParser) -> None:
    # The top-level parser may define --config too; SUPPRESS keeps its value when it is not repeated here.
    parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file")


def _manager(args: argparse.Namespace, *, with_model: bool, must_exist: bool = False,
             progress: bool | None = None, as_served: bool = False) -> IndexManager:
    """The indexes; `with_model` attaches the embedding model, `as_served` on the runtime the bot's queries use."""
    config = bootstrap(getattr(args, "config", None))
    from bot.search.manager import IndexManager, attach_models

    manager = IndexManager(config, progress=progress)
    if must_exist:
        manager.require(args.index)  # before loading the model: a wrong name fails fast
    if not with_model:
        return manager
    if as_served:
        from bot.plugin_manager import serving_runtime

        return attach_models(manager, config, runtime=serving_runtime(config, config.search.embedding_model))
    return attach_models(manager, config)


def run_add(args: argparse.Namespace) -> int:
    missing = [path for path in args.paths if not Path(path).exists()]
    if missing:  # before the model loads or the index is made: a mistyped path leaves nothing behind
        raise UsageError(f"no such file or folder: {', '.join(missing)} (nothing was indexed)")
    manager = _manager(args, with_model=True, progress=False if args.no_progress else None)
    if args.engine == "ray":  # chunks are embedded on the cluster; this process writes the index once
        from bot.engines.ray import RayEmbedder

        manager.embedder = RayEmbedder(manager.embedder, bootstrap(args.config), address=args.ray_address)
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
    if args.beir:
        from bot.search.beir import judged_queries
        from bot.search.benchmark import report

        queries = judged_queries(args.beir, args.split)  # bad data fails before the model loads
        result = report(_manager(args, with_model=True).open(_beir_index(args)), args.beir, queries, args.split)
        print(json.dumps(result) if args.json else _table(result))
        return 0
    from bot.search.evaluate import evaluate, read_qrels

    qrels = read_qrels(args.qrels)
    index = _manager(args, with_model=True, must_exist=True).open(args.index)
    result = evaluate(lambda query, n: index.search(query, n), qrels, k=args.k)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


def run_tune(args: argparse.Namespace) -> int:
    from bot.search.beir import judged_queries
    from bot.search.benchmark import build, pools, tune

    queries = judged_queries(args.beir, args.split)
    index = _manager(args, with_model=True).open(_beir_index(args))
    build(index, args.beir)
    result = tune(pools(index, queries))
    if args.json:
        print(json.dumps(result))
        return 0
    best = result["best"]
    print(f"best on {args.split} ({len(result['grid'])} settings tried): nDCG@10 {result['ndcg@10']:.4f} "
          f"(dense {result['dense']:.4f}, keyword {result['keyword']:.4f})\n"
          f"to use it, put in [search]:\n  dense_weight = {best['dense_weight']}\n"
          f"  document_share = {best['document_share']}")
    calibration = result["calibration"]
    if calibration["min_score"] is not None:
        refused = (f", refuses {calibration['refused']:.0%} of {calibration['unanswerable']} without their "
                   "document" if calibration["refused"] is not None else "")
        print(f"  min_score = {calibration['min_score']}   # answers {calibration['answered']:.0%} of "
              f"{calibration['answerable']} answerable queries{refused}")
    return 0


def run_check_int8(args: argparse.Namespace) -> int:
    config = bootstrap(getattr(args, "config", None))
    from bot.models import ModelHub
    from bot.search.int8_gate import MAX_DROP, check_int8_documents

    result = check_int8_documents(config, ModelHub(config), args.beir, split=args.split,
                                  max_drop=MAX_DROP if args.max_drop is None else args.max_drop,
                                  say=lambda line: None if args.json else print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(result))
        return 0
    verdict = "passed" if result["passed"] else "not passed"
    print(f"int8 document vectors for {config.search.embedding_model}: {verdict} "
          f"(nDCG@10 may drop by at most {result['max_drop']} on each set){': ' + result['reason'] if 'reason' in result else ''}")
    print(f"{'set':16}{'queries':>8}{'chunks':>8}{'dense fp32':>12}{'int8':>8}{'hybrid fp32':>13}{'int8':>8}{'drop':>8}")
    for item in result["sets"]:
        print(f"{item['name'][:16]:16}{item['queries']:>8}{item['chunks']:>8}{item['float32']['dense']:>12.4f}"
              f"{item['int8']['dense']:>8.4f}{item['float32']['hybrid']:>13.4f}{item['int8']['hybrid']:>8.4f}"
              f"{item['drop']:>8.4f}")
    print('[search] document_quantize = "int8" ' + ("now embeds documents in int8" if result["passed"] else
                                                    "keeps fp32 document vectors for this model"))
    return 0


def _beir_index(args: argparse.Namespace) -> str:
    from bot.search.beir import index_name

    return args.index or index_name(args.beir)


def _table(result: dict) -> str:
    built = result["index_build"]
    lines = [f"{result['data']} ({result['split']}): {result['queries']} queries, {built['documents']} documents "
             f"in index {result['index']!r} ({built['chunks_embedded']} chunks embedded in {built['seconds']} s)",
             f"{'':8}{'nDCG@10':>9}{'recall@100':>12}{'MRR@10':>9}{'ms/query':>10}"]
    for mode, scores in result["results"].items():
        lines.append(f"{mode:8}{scores['ndcg@10']:>9.4f}{scores['recall@100']:>12.4f}{scores['mrr@10']:>9.4f}"
                     f"{scores['ms_per_query']:>10.1f}")
    fusion = result["fusion"]
    lines.append(f"hybrid: dense_weight {fusion['dense_weight']}, document_share {fusion['document_share']}")
    return "\n".join(lines)


def run_search(args: argparse.Namespace) -> int:
    # The same runtime as /search (the plugin serving [search] embedding_model): ONNX by default, about a second
    # to start where torch took 6-8 s, and the same hits.
    index = _manager(args, with_model=True, must_exist=True, as_served=True).open(args.index)
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
