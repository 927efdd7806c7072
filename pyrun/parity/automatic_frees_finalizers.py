# What it shows: an automatic collection runs __del__ methods in the middle of a loop, at the
# iteration whose allocation started it. Each iteration makes a self-referencing instance with a
# __del__; with threshold 0 at 5, the allocation that takes count0 to 6 collects, and finds the
# instances made before it (not the one being made, which is tracked afterwards). The first time,
# the argument tuple of `Node(0)` counted too (the full collection emptied the tuple free list),
# so the fifth instance starts it and four are found; from then on every sixth, finding six.
# CPython: _PyObject_GC_Link collects before the new object is tracked (Modules/gcmodule.c);
# _PyObject_MakeTpCall packs the arguments of `Node(i)` in a tuple (Objects/call.c).
# How it records: __del__ appends to a list, printed at the end (print makes containers).
import gc

gc.disable()
log = []


class Node:
    def __init__(self, n):
        self.n = n
        self.me = self

    def __del__(self):
        log.append(str(self.n) + " freed during iteration " + str(i))


i = None
gc.set_threshold(5, 1000, 1000)
gc.collect()
gc.freeze()
gc.collect()
gc.enable()
for i in range(18):
    Node(i)
gc.disable()
for line in log:
    print(line)
print("left for later:", gc.collect())
