# What it shows: a ring of lists, each holding the next, the last holding the first. While
# one name refers to the ring, gc.collect() finds nothing: one outside reference keeps every
# member reachable. Without it the whole ring is garbage, whatever its size: 10, then 1000.
# The list `nodes` that built the ring is not part of it: reference counting frees it when
# make_ring returns, and it is not counted.
# CPython: move_unreachable (Modules/gcmodule.c) moves a member with gc_refs == 0 to the
# unreachable list and back again when a reachable member refers to it.
# Rust test: labs/03-cycles/tests/parity.rs, list_rings.
import gc

gc.disable()


def make_ring(size):
    nodes = []
    for i in range(size):
        nodes.append([])
    for i in range(size):
        nodes[i].append(nodes[(i + 1) % size])
    return nodes[0]


gc.collect()
gc.freeze()

for size in [10, 1000]:
    first = make_ring(size)
    n = gc.collect()
    print("ring of", size, "bound to a name: gc.collect():", n)
    del first
    n = gc.collect()
    print("ring of", size, "after del first: gc.collect():", n)
