# Two lines of labs/04-generations/parity/first_look.py under CPython 3.13, whose first threshold
# is 2000. The script runs in a child process, exactly as `python3.13 first_look.py` runs it.
# python: 3.13
import subprocess
import sys

SCRIPT = "../../../labs/04-generations/parity/first_look.py"
lines = subprocess.run(
    [sys.executable, SCRIPT], capture_output=True, text=True, check=True
).stdout.splitlines()
print(lines[0])
print(next(line for line in lines if line.startswith("1500 instances kept, automatic")))
