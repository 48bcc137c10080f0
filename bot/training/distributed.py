"""Data-parallel training: torchrun starts N copies of this module (one per GPU, or CPU processes with gloo).

The parent writes the validated data and the RunSpec into the run's scratch folder, starts
``python -m torch.distributed.run --nproc_per_node N -m bot.training.distributed SPEC.json`` and relays
rank 0's progress lines (`bot.training.progress`); rank 0 saves the model and writes fit.json with the
metrics and history.

Several nodes: every node runs ``nlpbot train PLUGIN --nnodes N --node-rank R --master-addr HOST
--master-port P`` on the same data; torchrun meets at node 0's address (static rendezvous) and the
trainer picks NCCL on GPUs, gloo on CPUs. Only global rank 0 (on node 0) saves; only node 0 writes the
version and decides promotion, the other nodes keep nothing.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import NlpbotError, UserInputError
from bot.training.data import write_jsonl
from bot.training.kinds import get_kind
from bot.training.progress import Progress, child_env, emit, run_reporting
from bot.training.spec import FitOutcome, RunSpec

SPEC_FILE = "spec.json"
OUTCOME_FILE = "fit.json"


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Nodes:
    """This launch's place in a multi-node run; node 0's address and port are where torchrun meets."""

    nnodes: int
    node_rank: int
    master_addr: str
    master_port: int

    def __post_init__(self) -> None:
        if self.nnodes < 1 or not 0 <= self.node_rank < self.nnodes:
            raise UserInputError(f"--node-rank must be 0..{self.nnodes - 1} for --nnodes {self.nnodes}")
        if not self.master_addr or not 0 < self.master_port < 65536:
            raise UserInputError("several nodes need --master-addr HOST and --master-port PORT (node 0's)")

    @property
    def writes_version(self) -> bool:
        return self.node_rank == 0

    def torchrun_args(self) -> list[str]:
        return [f"--nnodes={self.nnodes}", f"--node_rank={self.node_rank}", f"--master_addr={self.master_addr}",
                f"--master_port={self.master_port}"]


def fit_distributed(spec: RunSpec, train: Sequence[dict], eval: Sequence[dict], *, nproc: int,
                    nodes: Nodes | None = None, progress: Progress | None = None) -> FitOutcome:
    """Fit in nproc processes (on each node); raises NlpbotError with the workers' last lines if any fails.

    On a node other than 0 the outcome is empty: the metrics and the model are node 0's.
    """
    scratch = Path(spec.out_dir)
    write_jsonl(scratch / "data" / "train.jsonl", train)
    write_jsonl(scratch / "data" / "eval.jsonl", eval)
    RunSpec(**{**spec.__dict__, "show_bar": False}).save(scratch / SPEC_FILE)
    env = child_env(TQDM_DISABLE="1")  # workers report through progress lines only
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    where = nodes.torchrun_args() if nodes else ["--standalone"]
    command = [sys.executable, "-m", "torch.distributed.run", *where, f"--nproc_per_node={nproc}",
               "-m", "bot.training.distributed", str(scratch / SPEC_FILE)]
    child = run_reporting(command, env=env, progress=progress)
    if nodes is not None and not nodes.writes_version and child.code == 0:
        return FitOutcome(metrics={}, history=[])
    if child.code != 0 and not child.reported and nodes is None:
        # Workers that fail before any progress are most often torchrun's port race at rendezvous
        # (the free port it picked was taken before its store bound it): one fresh start, then give up.
        log.warning("the %d-process training failed to start (exit code %s); starting it once more:\n%s",
                    nproc, child.code, "\n".join(child.tail[-40:]))
        child = run_reporting(command, env=env, progress=progress)
    outcome_file = scratch / OUTCOME_FILE
    if child.code != 0 or not outcome_file.exists():
        shown = "\n".join(line for line in child.tail if "Warning" not in line)[-6000:]
        raise NlpbotError(f"the {nproc}-process training failed (exit code {child.code}); its last output:\n{shown}")
    data = json.loads(outcome_file.read_text(encoding="utf-8"))
    for name in (SPEC_FILE, OUTCOME_FILE):
        (scratch / name).unlink(missing_ok=True)
    for name in ("train.jsonl", "eval.jsonl"):
        (scratch / "data" / name).unlink(missing_ok=True)
    (scratch / "data").rmdir()
    return FitOutcome(metrics=data["metrics"], history=data["history"], step_seconds=data.get("step_seconds", 0.0))


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main(argv: Sequence[str]) -> int:
    """A torchrun worker: the same fit as in one process; rank 0 reports and saves."""
    spec = RunSpec.load(Path(argv[0]))
    scratch = Path(spec.out_dir)
    rank = int(os.environ.get("RANK", "0"))
    kind = get_kind(spec.kind, metric=spec.metric)
    outcome = kind.fit(spec, _read(scratch / "data" / "train.jsonl"), _read(scratch / "data" / "eval.jsonl"),
                       emit if rank == 0 else None)
    if rank == 0:
        tmp = scratch / f".{OUTCOME_FILE}.tmp"
        tmp.write_text(json.dumps({"metrics": outcome.metrics, "history": outcome.history,
                                   "step_seconds": outcome.step_seconds}), encoding="utf-8")
        tmp.replace(scratch / OUTCOME_FILE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
