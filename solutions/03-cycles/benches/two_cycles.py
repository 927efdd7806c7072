# CPython's side of benches/collect.rs: the time of one gc.collect() on the same graphs, built
# untimed, each node a list and each edge an append in the same order. Prints the median of
# ROUNDS runs in ms. Run: python3.11 solutions/03-cycles/benches/two_cycles.py
import gc
import statistics
import sys
import time

N = 1_000_000
ROUNDS = 5


def two_cycles(objects):
    for _ in range(objects // 2):
        a = []
        b = [a]
        a.append(b)
    return []


def a_pairs(n):
    for _ in range(n):
        x = []
        y = []
        x.append(y)
        y.append(x)
    return []


def b_ring(n):
    nodes = [[] for _ in range(n)]
    for i in range(n):
        nodes[i].append(nodes[(i + 1) % n])
    del nodes
    return []


def c_live(n):
    root = []
    live = []
    for i in range(n):
        live.append([])
        if i % 10 == 0:
            x = []
            y = []
            x.append(y)
            y.append(x)
    for node in live:
        root.append(node)
    for i in range(n):
        live[i].append(live[(i + 1) % n])
    del live
    return [root]


def d_random(n):
    nodes = [[] for _ in range(n)]
    x = 0x2545F4914F6CDD1D
    mask = (1 << 64) - 1
    for node in nodes:
        for _ in range(3):
            x ^= (x << 13) & mask
            x ^= x >> 7
            x ^= (x << 17) & mask
            node.append(nodes[(x >> 32) % n])
    roots = [nodes[0]]
    del nodes
    return roots


def time_one(build):
    gc.collect()
    roots = build()
    start = time.perf_counter()
    gc.collect()
    elapsed = time.perf_counter() - start
    del roots
    gc.collect()
    return elapsed * 1000


def main():
    gc.disable()
    print(sys.version.split()[0])
    cases = [
        ("two_cycles/1M_objects", lambda: two_cycles(N)),
        ("a_pairs/1M", lambda: a_pairs(N)),
        ("b_ring/1M", lambda: b_ring(N)),
        ("c_live/1M", lambda: c_live(N)),
        ("d_random/1M", lambda: d_random(N)),
    ]
    only = sys.argv[1:]
    for name, build in cases:
        if only and name not in only:
            continue
        times = [time_one(build) for _ in range(ROUNDS)]
        print(f"{name}: median {statistics.median(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f}, {ROUNDS} runs)")


main()
