"""``python -m sandbox``: the same as ``python main.py sandbox``."""

from sandbox.run import run_sandbox

raise SystemExit(run_sandbox())
