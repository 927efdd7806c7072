# What it shows: a dict is created untracked and stays untracked while it holds only atoms; it
# is tracked when a value that may be tracked is inserted, and stays tracked when that value is
# deleted again, until a full collection untracks it (gc.collect(0) does not). An untracked
# tuple inserted does not track a dict.
# gc.disable() does not stop an explicit gc.collect().
# CPython: MAINTAIN_TRACKING in insertdict (Objects/dictobject.c); gc_collect_main ->
# untrack_dicts -> _PyDict_MaybeUntrack, only in a full collection (issue #14775).
# The rule for one object is pyheap's Heap::maybe_untrack_dict; the collector applies it.
# Rust test: labs/03-cycles/tests/parity.rs, dict_tracking.
import gc

gc.disable()
# Start-up garbage goes now, and start-up objects move to the permanent generation.
gc.collect()
gc.freeze()

d = {}
print("d = {}: gc.is_tracked(d):", gc.is_tracked(d))
d[1] = 2
print("d[1] = 2: gc.is_tracked(d):", gc.is_tracked(d))
d[2] = []
print("d[2] = []: gc.is_tracked(d):", gc.is_tracked(d))
del d[2]
print("del d[2]: gc.is_tracked(d):", gc.is_tracked(d))
gc.collect(0)
print("gc.collect(0): gc.is_tracked(d):", gc.is_tracked(d))
gc.collect()
print("gc.collect(): gc.is_tracked(d):", gc.is_tracked(d))
t = tuple([1, 2])
e = {}
e[1] = t
print("e[1] = t (t tracked): gc.is_tracked(e):", gc.is_tracked(e))
gc.collect()
print("gc.collect(): gc.is_tracked(t), gc.is_tracked(e):", gc.is_tracked(t), gc.is_tracked(e))
f = {}
f[1] = t
print("f[1] = t (t untracked): gc.is_tracked(f):", gc.is_tracked(f))
