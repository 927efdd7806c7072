# The line of pyheap/parity/free_lists.py about 20-tuples, under three releases: 3.13 takes dead
# 20-tuples back from their free list. Each runs the script in a child process.
# python: 3.11 3.12 3.13
import subprocess
import sys

SCRIPT = "../../../pyheap/parity/free_lists.py"
lines = subprocess.run(
    [sys.executable, SCRIPT], capture_output=True, text=True, check=True
).stdout.splitlines()
print(sys.version.split()[0] + ":", next(line for line in lines if "20-tuples" in line))
