# The experiment of the lab 02 chapter: a million small objects made, freed, made again, and freed
# but twenty, with the process's resident memory and pymalloc's arena counters after each step.
import os, sys, tempfile

def arenas():
    """The arena counters of sys._debugmallocstats(), which writes to C's stderr (fd 2)."""
    with tempfile.TemporaryFile("w+") as f:
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        lines = f.read().splitlines()
    counts = {}
    for line in lines:
        if line.startswith("# arenas"):
            name, value = line[len("# arenas "):].split("=")
            counts[name.strip()] = int(value.replace(",", ""))
    return counts

def rss_mib():
    """Resident memory: the second field of /proc/self/statm, in pages."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

def show(what):
    a = arenas()
    # Resident memory rounded down to 5 MiB: it moves by a MiB from run to run.
    rss = 5 * int(rss_mib() // 5)
    print(f"{what:<20} RSS {rss:3} MiB   arenas: current {a['allocated current']:3}"
          f"  total {a['allocated total']:3}  reclaimed {a['reclaimed']:3}")

N = 1_000_000
objs = [None] * N                  # the list's 8 MB array comes from malloc, not from pymalloc
show("start")
for i in range(N):
    objs[i] = object()             # 16 bytes each: size class 0
show("a million objects")
for i in range(N):
    objs[i] = None                 # each object's count drops to zero: freed at once
show("all freed")
for i in range(N):
    objs[i] = object()
show("a million again")
for i in range(N):
    if i % 50_000:                 # keep objects 0, 50000, 100000, ...: 20 of them
        objs[i] = None
show("all freed but 20")
