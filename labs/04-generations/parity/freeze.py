# What it shows: gc.freeze() moves every object of the three generations, garbage included, to
# the permanent generation, which no collection looks at, and sets the three counts to 0;
# gc.get_freeze_count() is its size. gc.unfreeze() puts those objects back at the end of
# generation 2 (not 0), so only a full collection finds the garbage among them. gc.get_objects(g)
# lists generation g: the frozen objects are in none.
# CPython: gc_freeze_impl, gc_unfreeze_impl, gc_get_freeze_count_impl, gc_get_objects_impl
# (Modules/gcmodule.c).
# How it records: results are kept in lists and printed at the end (print() makes containers).
# generation_of() calls gc.get_objects(), whose result list is a container like any other, and
# walks it by index (a `for` over a list would make a list iterator, another container). After
# `gc.collect(); gc.freeze(); gc.collect()` nothing of the scenario is in a generation, the free
# lists are empty and the counts are 0: a new pyheap Heap and Gc.
# Rust test: labs/04-generations/tests/parity.rs, freeze.
import gc

gc.disable()


class C:
    pass


lines = []
counts = []


def generation_of(obj):
    for g in range(3):
        objects = gc.get_objects(g)
        for k in range(len(objects)):
            if objects[k] is obj:
                return g
    return None


def count():
    counts.extend(gc.get_count())


gc.collect()
gc.freeze()
before = gc.get_freeze_count()
gc.collect()

a = []
a.append(a)
b = C()
b.me = b
del b
count()
gc.freeze()
count()
lines.append(gc.get_freeze_count() - before)
lines.append(generation_of(a))
lines.append(gc.collect())
del a
lines.append(gc.collect())
gc.unfreeze()
lines.append(gc.get_freeze_count())
count()
lines.append(gc.collect(1))
lines.append(gc.collect(2))

print("before gc.freeze(): gc.get_count() ==", tuple(counts[0:3]))
print("after gc.freeze(): gc.get_count() ==", tuple(counts[3:6]))
print("objects frozen:", lines[0])
print("generation of a frozen list:", lines[1])
print("gc.collect():", lines[2])
print("del a; gc.collect():", lines[3])
print("after gc.unfreeze(): gc.get_freeze_count() ==", lines[4], "and gc.get_count() ==", tuple(counts[6:9]))
print("gc.collect(1):", lines[5])
print("gc.collect(2):", lines[6])
