# A million small objects allocated and freed, under each allocator CPython can use
# (PYTHONMALLOC), each in a child process: the resident memory they took, per object, and how
# much of it the process gave back when they were freed, then after glibc's malloc_trim(0). The
# shares are rounded to tens of percent, because resident memory moves by a few hundred
# kilobytes from run to run.
# python: 3.11 3.13
import os
import subprocess
import sys

CHILD = """
import ctypes, os
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
N = 1_000_000
objs = [None] * N
start = rss()
for i in range(N):
    objs[i] = object()
full = rss()
for i in range(N):
    objs[i] = None
freed = rss()
ctypes.CDLL("libc.so.6").malloc_trim(0)
trimmed = rss()
grown = full - start
print(round(grown / N), *(round(100 * (full - after) / grown, -1) for after in (freed, trimmed)))
"""

print(f"CPython {sys.version.split()[0]}:")
allocators = ["pymalloc", "malloc"] + (["mimalloc"] if sys.version_info >= (3, 13) else [])
for name in allocators:
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        env={**os.environ, "PYTHONMALLOC": name},
        capture_output=True,
        text=True,
        check=True,
    )
    per_object, freed, trimmed = (int(float(word)) for word in child.stdout.split())
    print(f"  PYTHONMALLOC={name:<9} {per_object} bytes per object; given back: "
          f"{freed:3}% when freed, {trimmed:3}% after malloc_trim(0)")
