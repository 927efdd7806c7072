# What it shows: when CPython 3.11 collects by itself, in a program that makes 4,000 instances,
# keeps one in four, and makes one in seven a self-referencing cycle, with thresholds
# (50, 2, 2). A collection starts inside the allocation that takes count0 past threshold 0; it
# collects the oldest generation whose count is past its threshold: generation 1 after more than
# 2 collections of generation 0, generation 2 after more than 2 of generation 1, but a full
# collection only when the objects promoted into generation 2 since the last one are at least a
# quarter of those that survived it (long_lived_pending >= long_lived_total / 4); otherwise a
# younger generation is collected instead. The first full collection finds long_lived_total 0,
# so it runs; later ones wait until enough has been promoted.
# CPython: _PyObject_GC_Link and gc_collect_generations (Modules/gcmodule.c); the counts in
# gc_collect_main.
# How it records: the callback appends to `log` what it was given and gc.get_count(), whose
# 3-tuple it frees at once (onto the free list of 3-tuples); everything is printed at the end. After `gc.collect(); gc.freeze(); gc.collect()` nothing of the scenario is in a
# generation, the free lists are empty, the counts are 0 and long_lived_total is 0: a new pyheap
# Heap and Gc. `i` is the iteration whose `C()` started the collection.
# Rust test: labs/04-generations/tests/parity.rs, automatic_collections.
import gc

gc.disable()


class C:
    pass


log = []


def on_gc(phase, info):
    log.append(phase)
    log.append(info["generation"])
    log.append(info["collected"])
    log.extend(gc.get_count())
    log.append(i)


gc.set_threshold(50, 2, 2)
i = None
before = gc.get_stats()
gc.collect()
gc.freeze()
gc.collect()
gc.callbacks.append(on_gc)

keep = []
gc.enable()
for i in range(4000):
    x = C()
    if i % 4 == 0:
        keep.append(x)
    if i % 7 == 0:
        x.me = x
gc.disable()
counts = gc.get_count()

print("thresholds:", gc.get_threshold())
for k in range(0, len(log), 14):
    start, stop = log[k : k + 7], log[k + 7 : k + 14]
    assert start[0] == "start" and stop[0] == "stop"
    print(f"i = {start[6]}: generation {start[1]}, counts {tuple(start[3:6])} -> {tuple(stop[3:6])}, collected {stop[2]}")
print("gc.get_count():", counts)
after = gc.get_stats()
for g in range(3):
    done = after[g]["collections"] - before[g]["collections"] - (2 if g == 2 else 0)
    found = after[g]["collected"] - before[g]["collected"]
    print(f"generation {g}: {done} collections, {found} objects collected")
print("len(keep):", len(keep))
