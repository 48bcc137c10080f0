"""Data-parallel training: torchrun starts N copies of this module (one per GPU, or CPU processes with gloo).

The parent writes the validated data and the Job into the run's scratch folder, starts
``python -m torch.distributed.run --nproc_per_node N -m bot.training.distributed JOB.json`` and relays
rank 0's progress lines; rank 0 saves the model and writes fit.json with the metrics and history.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import NlpbotError
from bot.training.data import write_jsonl
from bot.training.fit import FitOutcome, Job, Progress, fit

PROGRESS_PREFIX = "nlpbot-progress: "
OUTCOME_FILE = "fit.json"


log = logging.getLogger(__name__)


def fit_distributed(job: Job, train: Sequence[dict], eval: Sequence[dict], *, nproc: int,
                    progress: Progress | None = None) -> FitOutcome:
    """Run `fit` in nproc processes; raises NlpbotError with the workers' last lines if any of them fails."""
    scratch = Path(job.out_dir)
    write_jsonl(scratch / "data" / "train.jsonl", train)
    write_jsonl(scratch / "data" / "eval.jsonl", eval)
    worker_job = Job(**{**job.__dict__, "show_bar": False})
    worker_job.save(scratch / "job.json")
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds the `bot` package in use
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    env["TQDM_DISABLE"] = "1"  # workers report through progress lines only
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "bot.training.distributed", str(scratch / "job.json")]
    code, started, tail = _launch(command, env, progress)
    if code != 0 and not started:
        # Workers that fail before any progress are most often torchrun's port race at rendezvous
        # (the free port it picked was taken before its store bound it): one fresh start, then give up.
        log.warning("the %d-process training failed to start (exit code %s); starting it once more:\n%s",
                    nproc, code, "\n".join(tail[-40:]))
        code, started, tail = _launch(command, env, progress)
    outcome_file = scratch / OUTCOME_FILE
    if code != 0 or not outcome_file.exists():
        shown = "\n".join(line for line in tail if "Warning" not in line)[-6000:]
        raise NlpbotError(f"the {nproc}-process training failed (exit code {code}); its last output:\n{shown}")
    data = json.loads(outcome_file.read_text(encoding="utf-8"))
    for name in ("job.json", OUTCOME_FILE):
        (scratch / name).unlink(missing_ok=True)
    for name in ("train.jsonl", "eval.jsonl"):
        (scratch / "data" / name).unlink(missing_ok=True)
    (scratch / "data").rmdir()
    return FitOutcome(metrics=data["metrics"], history=data["history"])


def _launch(command: list[str], env: dict[str, str], progress: Progress | None) -> tuple[int, bool, list[str]]:
    """Run torchrun; relay progress lines. Returns (exit code, whether training reported progress, last lines)."""
    tail: collections.deque[str] = collections.deque(maxlen=200)
    started = False
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        for line in process.stdout:  # type: ignore[union-attr]
            # Another worker's unfinished output (a progress bar's "\r...") can share the line: look inside it.
            at = line.find(PROGRESS_PREFIX)
            if at >= 0:
                started = True
                if progress is not None:
                    progress(line[at + len(PROGRESS_PREFIX):].rstrip("\n"))
            elif line.strip():
                tail.append(line.rstrip())
        code = process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
    return code, started, list(tail)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main(argv: Sequence[str]) -> int:
    """A torchrun worker: the same run as in one process; rank 0 reports and saves."""
    job = Job.load(Path(argv[0]))
    scratch = Path(job.out_dir)
    rank = int(os.environ.get("RANK", "0"))
    progress = (lambda line: print(PROGRESS_PREFIX + line, flush=True)) if rank == 0 else None
    outcome = fit(job, _read(scratch / "data" / "train.jsonl"), _read(scratch / "data" / "eval.jsonl"), progress)
    if rank == 0:
        tmp = scratch / f".{OUTCOME_FILE}.tmp"
        tmp.write_text(json.dumps({"metrics": outcome.metrics, "history": outcome.history}), encoding="utf-8")
        tmp.replace(scratch / OUTCOME_FILE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
