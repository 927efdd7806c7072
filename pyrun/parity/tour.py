# What it shows: the whole stack on one short program, the book's closing chapter's tour. Part 1
# is reference counting alone (pyheap); part 2 a cycle, which only the collector frees (lab 03),
# with a weakref whose callback runs during the collection; part 3 the scheduler (lab 04),
# starting collections by itself inside a loop, recorded by a gc callback and printed after
# (print() makes containers in CPython, so the loop's part starts from a full collection).
# CPython: Py_DECREF and subtype_dealloc (Objects/typeobject.c); gc_collect_main and
# handle_weakrefs (Modules/gcmodule.c); _PyObject_GC_Link and gc_collect_generations.
import gc
import sys
import weakref

gc.disable()


class Node:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)


def gone(ref):
    print("  weakref callback: b is gone")


found = []


def on_gc(phase, info):
    if phase == "stop":
        found.append(info["collected"])


gc.collect()
gc.freeze()

print("1. reference counting frees what nothing refers to")
a = Node("a")
print("  sys.getrefcount(a) =", sys.getrefcount(a))
del a
print("2. a cycle waits for the collector")
b = Node("b")
c = Node("c")
b.peer = c
c.peer = b
watch = weakref.ref(b, gone)
del b, c
print("  still alive:", watch() is not None)
print("  gc.collect() =", gc.collect())
print("3. the scheduler starts collections by itself")
gc.set_threshold(100)
# print() makes containers inside CPython's io layers; a full collection forgets them.
gc.collect()
gc.callbacks.append(on_gc)
gc.enable()
for i in range(1000):
    x = []
    x.append(x)
gc.disable()
gc.callbacks.remove(on_gc)
print("  collections during the loop:", len(found))
print("  cycles they freed:", sum(found))
