# What it shows: what gc.collect() counts among the objects that die with a cycle. It counts
# the unreachable *tracked* containers only: a list of ints and a new tuple of ints (tuples
# are tracked at creation) hanging off the cycle are counted, and so are a dict holding a
# list and that list; a str, an int, an untracked dict of strs and the empty tuple (never
# tracked) are not, and neither is a tuple of ints that an earlier collection untracked,
# although all of them die too. 2 (the cycle) + 1 + 1 + 2 = 6.
# CPython: gc_collect_main returns n + m, m = len(final_unreachable) (Modules/gcmodule.c);
# untrack_tuples -> _PyTuple_MaybeUntrack; a dict is tracked by MAINTAIN_TRACKING only when
# a value that may be tracked is inserted (Objects/dictobject.c).
# Rust test: labs/03-cycles/tests/parity.rs, garbage_hanging_off_cycle.
import gc

gc.disable()
gc.collect()
gc.freeze()

old_tuple = tuple([5, 6])
n = gc.collect()
print("a collection while old_tuple lives: gc.collect():", n)
a = []
b = [a]
a.append(b)
a.append([1, 2])
a.append(tuple([3, 4]))
a.append(old_tuple)
a.append(tuple())
a.append("text")
a.append(12345)
a.append({"k": "v"})
a.append({"k": []})
del old_tuple
print("gc.is_tracked([1, 2]):", gc.is_tracked(a[1]))
print("gc.is_tracked(new tuple of ints):", gc.is_tracked(a[2]))
print("gc.is_tracked(old tuple of ints):", gc.is_tracked(a[3]))
print("gc.is_tracked(()):", gc.is_tracked(a[4]))
print("gc.is_tracked('text'):", gc.is_tracked(a[5]))
print("gc.is_tracked(12345):", gc.is_tracked(a[6]))
print("gc.is_tracked({'k': 'v'}):", gc.is_tracked(a[7]))
print("gc.is_tracked({'k': []}):", gc.is_tracked(a[8]))
del a, b
n = gc.collect()
print("gc.collect():", n)
