"""Candidate solutions from a real model, for the wrong-solution pool of ``swerve tasks strength``.

Asks the configured model (``--model``, default ``local``: the embedded one) to complete the first
N HumanEval problems, once each, and writes swerve predictions (``{"instance_id", "solution"}``,
the whole program: the prompt, then the code the reply holds). Then:

    .venv/bin/python bench/code_rl_samples.py --tasks 20 --out bench/.out/samples.jsonl
    swerve tasks scale-tests humaneval --limit 20 --out bench/.out/he20
    swerve tasks strength bench/.out/he20 --samples bench/.out/samples.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

ASK = "Complete this Python function. Reply with the whole function in one ```python block.\n\n```python\n{prompt}```"


def program_of(prompt: str, reply: str) -> str:
    blocks = re.findall(r"```(?:python)?\n(.*?)```", reply, re.S)
    code = max(blocks, key=len) if blocks else reply
    return code if "def " in code else prompt + code


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "bench" / ".out" / "samples.jsonl"))
    args = parser.parse_args()
    from swerve.config import AgentConfig, resolve
    from swerve.models.base import Sampling
    from swerve.tasks.code import load_code_tasks

    settings = resolve(str(ROOT), {"model": args.model})
    model = AgentConfig.from_settings(settings).build_model()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with out.open("w") as f:
        for task in load_code_tasks("humaneval")[: args.tasks]:
            turn = await model.complete(
                [{"role": "user", "content": ASK.format(prompt=task.prompt)}], [],
                sampling=Sampling(temperature=0.0, max_tokens=args.max_tokens),
            )  # fmt: skip
            program = program_of(task.prompt, turn.text)
            if "from typing" in task.prompt and "from typing" not in program:
                program = task.prompt.split("\n\n\ndef")[0] + "\n\n\n" + program
            f.write(json.dumps({"instance_id": task.id, "solution": program, "model": args.model}) + "\n")
            print(f"{task.id}: {len(turn.text)} chars, {time.monotonic() - start:.0f} s", file=sys.stderr)
    await model.aclose()
    print(f"samples: {out}")


if __name__ == "__main__":
    asyncio.run(main())
