# What it shows: gc.callbacks around collections made by hand. Each collection calls every
# callback twice, with "start" and then "stop", in the order of the list, and all the callbacks
# of one phase get the same info dict: {"generation": g, "collected": m, "uncollectable": n},
# with 0 and 0 at "start". gc.collect() called from a callback returns 0 at once: a collection
# is running. After a collection of generation 0 or 1 the counts are 0 (the "stop" info dict
# comes from the dict free list, where the "start" one went); after a full collection, which
# empties the free lists, the "stop" info dict is a new container, so count0 is 1 (and the
# callbacks' own gc.get_count() 3-tuple makes it 2). gc.get_stats() credits the generation
# collected.
# CPython: gc_collect_with_callback, invoke_gc_callback (Py_BuildValue "{sisnsn}"), gc_collect_impl
# (`if (gcstate->collecting) n = 0`), clear_freelists (Modules/gcmodule.c).
# How it records: the callbacks append to `log` and `ids` (no container is made, except the
# 3-tuple of gc.get_count(), freed at once); everything is printed at the end. After
# `gc.collect(); gc.freeze(); gc.collect()` nothing of the scenario is in a generation, the free
# lists are empty and the counts are 0: a new pyheap Heap and Gc.
# Rust test: labs/04-generations/tests/parity.rs, callbacks.
import gc

gc.disable()


class C:
    pass


log = []
ids = []
nested = []


def first(phase, info):
    log.append("first")
    log.append(phase)
    log.append(info["generation"])
    log.append(info["collected"])
    log.append(info["uncollectable"])
    log.extend(gc.get_count())
    ids.append(id(info))


def second(phase, info):
    log.append("second")
    log.append(phase)
    log.append(info["generation"])
    log.append(info["collected"])
    log.append(info["uncollectable"])
    log.extend(gc.get_count())
    ids.append(id(info))
    nested.append(gc.collect())


before = gc.get_stats()
gc.collect()
gc.freeze()
gc.collect()
gc.callbacks.append(first)
gc.callbacks.append(second)

a = C()
a.me = a
del a
b = []
b.append(b)
n0 = gc.collect(0)
del b
n1 = gc.collect(1)
n2 = gc.collect()
gc.callbacks.clear()
after = gc.get_stats()

for k in range(0, len(log), 8):
    name, phase, generation, collected, uncollectable, c0, c1, c2 = log[k : k + 8]
    info = {"generation": generation, "collected": collected, "uncollectable": uncollectable}
    print(f"{name}({phase!r}, {info}); gc.get_count() == {(c0, c1, c2)}")
print("gc.collect(0), gc.collect(1), gc.collect():", n0, n1, n2)
print("gc.collect() inside a callback:", nested)
print("one info dict per phase:", all(ids[k] == ids[k + 1] for k in range(0, len(ids), 2)))
for g in range(3):
    done = after[g]["collections"] - before[g]["collections"] - (2 if g == 2 else 0)
    found = after[g]["collected"] - before[g]["collected"]
    print(f"gc.get_stats()[{g}]: {done} collections, {found} collected")
