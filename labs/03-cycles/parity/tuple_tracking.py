# What it shows: a tuple built at run time is tracked at creation, whatever it holds; the empty
# tuple never is. A collection untracks the tuples none of whose items may be tracked: one of
# ints, and a tuple holding only such a tuple when the inner one comes first in the generation
# (the one pass untracks the inner, then the outer). A tuple holding a list stays tracked.
# gc.disable() does not stop an explicit gc.collect(0), which is what untracks them here.
# CPython: PyTuple_New tracks (Objects/tupleobject.c); gc_collect_main -> untrack_tuples ->
# _PyTuple_MaybeUntrack (Modules/gcmodule.c).
# The rule for one object is pyheap's Heap::maybe_untrack_tuple; the collector applies it.
# Rust test: labs/03-cycles/tests/parity.rs, tuple_tracking.
import gc

gc.disable()
# Start-up garbage goes now, and start-up objects move to the permanent generation.
gc.collect()
gc.freeze()

t = tuple([1, 2])
u = tuple([[]])
inner = tuple([3, 4])
outer = tuple([inner])
empty = tuple()
for name in ["t", "u", "inner", "outer", "empty"]:
    print("created: gc.is_tracked(" + name + "):", gc.is_tracked(globals()[name]))
gc.collect(0)
for name in ["t", "u", "inner", "outer", "empty"]:
    print("after gc.collect(0): gc.is_tracked(" + name + "):", gc.is_tracked(globals()[name]))
