# What it shows: the long-lived rule. Thresholds (10, 2, 1): a full collection is due after 2
# collections of generation 1, but it runs only if the objects promoted into generation 2 since
# the last full collection (long_lived_pending) are at least a quarter of those that survived it
# (long_lived_total, C int division). Part 1: 400 instances survive a full collection
# (long_lived_total 401, with the list holding them), then kept instances are made with
# automatic collection on. count2 passes threshold 2 many times while fewer than 100 objects
# have been promoted, and each time a younger generation is collected instead; the full
# collection runs once 100 are pending. Part 2: the same with only 20 long-lived instances: the
# rule lets the first full collection that is due run.
# CPython: gc_collect_generations and its comment on issue #4074 (Modules/gcmodule.c); the
# counts and long_lived_pending / long_lived_total in gc_collect_main.
# How it records: the callback appends to `log` what it was given and gc.get_count(), whose
# 3-tuple it frees at once (onto the free list of 3-tuples); everything is printed at the end.
# After `gc.collect(); gc.freeze(); gc.collect()` nothing of the scenario is in a generation,
# the free lists are empty, the counts are 0 and long_lived_total is 0: a new pyheap Heap and
# Gc. `i` is the iteration during which the collection started.
# Rust test: labs/04-generations/tests/parity.rs, long_lived_rule.
import gc

gc.disable()


class C:
    pass


def on_gc(phase, info):
    log.append(phase)
    log.append(info["generation"])
    log.append(info["collected"])
    log.extend(gc.get_count())
    log.append(i)


def show(log):
    for k in range(0, len(log), 14):
        start, stop = log[k : k + 7], log[k + 7 : k + 14]
        if start[6] is None:
            print(f"  gc.collect(): generation {start[1]}")
            continue
        note = ""
        if start[1] < 2 and start[5] > 1:
            note = "   count2 > threshold2, but the full collection waits"
        print(f"  i = {start[6]}: generation {start[1]}, counts {tuple(start[3:6])}{note}")


log1 = []
log2 = []
between = []
gc.set_threshold(10, 2, 1)
i = None
gc.collect()
gc.freeze()
gc.collect()
gc.callbacks.append(on_gc)

log = log1
big = []
for k in range(400):
    big.append(C())
gc.collect()
keep = []
gc.enable()
for i in range(500):
    keep.append(C())
gc.disable()
del big, keep
log = between
gc.collect()

log = log2
i = None
big = []
for k in range(20):
    big.append(C())
gc.collect()
keep = []
gc.enable()
for i in range(150):
    keep.append(C())
gc.disable()

print("part 1: 400 long-lived instances")
show(log1)
print("part 2: 20 long-lived instances")
show(log2)
