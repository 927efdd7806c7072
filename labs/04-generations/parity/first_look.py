# What it shows: CPython's three generations from the outside. gc.get_threshold() is (700, 10,
# 10). gc.get_count()[0] goes up by one for each container made and down by one for each one
# freed, except that a freed list goes to a free list and is not uncounted; ints are not
# containers. A collection of generation 0 sets count0 to 0 and adds one to count1; gc.collect()
# sets all three to 0, and then the "stop" callback's info dict is a new container: count0 is 1.
# With automatic collection on, the allocation that takes count0 past 700 runs a collection of
# generation 0 inside it; the instance being made is not part of it.
# CPython: gc_collect_main's counts, gc_collect_with_callback and invoke_gc_callback,
# _PyObject_GC_Link and gc_collect_generations (Modules/gcmodule.c).
# How it records: the callback appends to `log` what it was given and gc.get_count(), and each
# measurement extends `counts`; gc.get_count() makes a 3-tuple, freed at once onto the free list
# of 3-tuples, and nothing else makes a container. Everything is printed at the end, because
# print() makes containers. Before `gc.collect(); gc.freeze(); gc.collect()` the script only
# defines things: afterwards nothing of the scenario is in a generation, the free lists are
# empty, the counts are 0, and the last full collection, finding nothing, left
# long_lived_total at 0: a new pyheap Heap and Gc.
# Rust test: labs/04-generations/tests/parity.rs, first_look.
import gc

gc.disable()


class C:
    pass


log = []
counts = []


def on_gc(phase, info):
    log.append(phase)
    log.append(info["generation"])
    log.append(info["collected"])
    log.extend(gc.get_count())
    log.append(i)


def count():
    counts.extend(gc.get_count())


i = None
threshold = gc.get_threshold()
gc.collect()
gc.freeze()
gc.collect()
gc.callbacks.append(on_gc)

count()
a = C()
b = C()
x = []
n = 12345
count()
del a
count()
del x
count()
b.me = b
del b
count()
gc.collect(0)
count()
gc.collect()
count()
keep = []
gc.enable()
for i in range(1500):
    keep.append(C())
gc.disable()
count()

print("gc.get_threshold():", threshold)
steps = [
    "start",
    "a = C(); b = C(); x = []; n = 12345",
    "del a",
    "del x",
    "b.me = b; del b",
    "gc.collect(0)",
    "gc.collect()",
    "1500 instances kept, automatic collection on",
]
for k in range(len(steps)):
    print(steps[k] + ": gc.get_count() ==", tuple(counts[3 * k : 3 * k + 3]))
print("callback calls:")
for k in range(0, len(log), 7):
    phase, generation, collected, c0, c1, c2, when = log[k : k + 7]
    where = "gc.collect()" if when is None else "keep.append(C()), i == " + str(when)
    print(
        f"  {phase}: generation {generation}, collected {collected}, "
        f"gc.get_count() == {(c0, c1, c2)}, in {where}"
    )
