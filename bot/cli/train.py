"""`nlpbot train PLUGIN`: fine-tune a plugin's model, locally or across processes and machines, and promote it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from bot.bootstrap import bootstrap


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser("train", help="fine-tune a plugin's model and promote it if it is at least as good")
    train.add_argument("plugin", help="a plugin with a training kind (`nlpbot models list` names them)")
    train.add_argument("--data", help="training data (JSON lines, or CoNLL for token classification); default [training.PLUGIN] data")
    train.add_argument("--eval-data", help="evaluation data; default: 10%% held out from --data")
    train.add_argument("--base", help="model to start from: path, package:MODULE, trained:PLUGIN or hub id")
    train.add_argument("--epochs", type=float)
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    train.add_argument("--max-length", type=int, help="tokens per example")
    train.add_argument("--seed", type=int)
    train.add_argument("--force", action="store_true", help="promote even if it scores worse than the serving version")
    train.add_argument("--nproc", type=int, default=1, help="data-parallel processes (GPUs, or CPU processes)")
    train.add_argument("--nnodes", type=int, default=1, help="machines in the run (each runs this command)")
    train.add_argument("--node-rank", type=int, default=0, help="this machine's rank; node 0 writes the version")
    train.add_argument("--master-addr", help="node 0's address (host name or IP), where the nodes meet")
    train.add_argument("--master-port", type=int, default=29500, help="a free port on node 0")
    train.add_argument("--quiet", action="store_true", help="no progress bar (the Trainer's shows only with --verbose)")
    train.add_argument("--progress-lines", action="store_true",
                       help="progress as 'nlpbot-progress: ...' lines on stdout, for a program that runs this one")
    train.set_defaults(handler=cmd_train)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_train(args: argparse.Namespace) -> int:
    from bot.exports import promote
    from bot.plugin_manager import trainable
    from bot.training.progress import emit
    from bot.training.run import train

    config = bootstrap(getattr(args, "config", None))
    declared = trainable(config, args.plugin)
    nodes = None
    if args.nnodes > 1 or args.node_rank:
        from bot.training.distributed import Nodes

        nodes = Nodes(args.nnodes, args.node_rank, args.master_addr or "", args.master_port)
    if threading.current_thread() is threading.main_thread():
        # `kill PID` stops a run like Ctrl-C does: its scratch folder is removed, nothing serving changes.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = train(
            config, plugin=args.plugin, kind=declared.kind, labels=declared.labels, metric=declared.metric,
            out_of_scope_label=declared.out_of_scope_label,
            data=args.data, eval_data=args.eval_data,
            base=args.base, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_steps=args.max_steps,
            max_length=args.max_length, seed=args.seed, force=args.force, nproc=args.nproc, nodes=nodes,
            progress=emit if args.progress_lines else (lambda line: print(line, file=sys.stderr, flush=True)),
            # One line per tenth of the run and per evaluation (bot.training.history) says how it goes; the Trainer's
            # own bar and log dicts repeat it, so they show only with --verbose.
            show_bar=args.verbose and not (args.quiet or args.progress_lines),
            promote=lambda version: promote(config, args.plugin, version),  # its ONNX export made first, where it serves so
        )
    except KeyboardInterrupt:
        print("interrupted: nothing was changed", file=sys.stderr)
        return 130
    if not result.version:  # a node other than 0
        print(f"{args.plugin}: {result.reason}; {result.serving or 'nothing'} serves on node 0's models")
        return 0
    if args.progress_lines:  # else the summary was the last progress line on stderr: once is enough
        print(result.summary())
    print(f"saved to {result.path}; {result.serving or 'nothing'} serves {args.plugin}")
    return 0
