# What it shows: the two programs of workload G (docs/workloads.md), 5,000 iterations each, with
# the default thresholds (700, 10, 10). churn_cycles makes two lists per iteration that are a
# cycle at once (`a = []; b = [a]; a.append(b)`): each collection of generation 0 frees them,
# and the first 80 freed lists go to the list free list, so the next 80 lists made after a
# collection are not counted: collections come every 781 lists (700 + 1 + 80), not every 701.
# grow_live keeps every list it makes (`root.append([])`): nothing is freed, collections come
# every 701 lists, and each promotes what it saw.
# CPython: _PyObject_GC_Link, gc_collect_generations (Modules/gcmodule.c); PyList_New and
# list_dealloc's free list (Objects/listobject.c).
# How it records: the callback appends to `log` what it was given and gc.get_count(), whose
# 3-tuple it frees at once (onto the free list of 3-tuples); everything is printed at the end. After `gc.collect(); gc.freeze(); gc.collect()` nothing of the scenario is in a
# generation, the free lists are empty, the counts are 0 and long_lived_total is 0: a new pyheap
# Heap and Gc. `i` is the iteration during which the collection started.
# Rust test: labs/04-generations/tests/parity.rs, churn_and_grow.
import gc

gc.disable()
log = []


def on_gc(phase, info):
    log.append(phase)
    log.append(info["generation"])
    log.append(info["collected"])
    log.extend(gc.get_count())
    log.append(i)


i = None
gc.collect()
gc.freeze()
gc.collect()
gc.callbacks.append(on_gc)

gc.enable()
for i in range(5000):
    a = []
    b = [a]
    a.append(b)
gc.disable()
after_churn = gc.get_count()
churn_log = log[:]
del log[:]
del a, b
root = []
gc.enable()
for i in range(5000):
    root.append([])
gc.disable()
after_grow = gc.get_count()

def show(log):
    for k in range(0, len(log), 14):
        start, stop = log[k : k + 7], log[k + 7 : k + 14]
        print(f"  i = {start[6]}: generation {start[1]}, counts {tuple(start[3:6])} -> {tuple(stop[3:6])}, collected {stop[2]}")


print("churn_cycles:")
show(churn_log)
print("  gc.get_count():", after_churn)
print("grow_live:")
show(log)
print("  gc.get_count():", after_grow)
