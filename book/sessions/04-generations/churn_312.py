# The first collections of labs/04-generations/parity/churn_and_grow.py under CPython 3.12, where
# the automatic collection runs at the next eval-breaker check instead of inside the allocation.
# The script runs in a child process, exactly as `python3.12 churn_and_grow.py` runs it.
# python: 3.12
import subprocess
import sys

SCRIPT = "../../../labs/04-generations/parity/churn_and_grow.py"
lines = subprocess.run(
    [sys.executable, SCRIPT], capture_output=True, text=True, check=True
).stdout.splitlines()
print("\n".join(lines[:4]))
