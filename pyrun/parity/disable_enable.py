# What it shows: gc.disable() stops the automatic collections, not the counting: count0 climbs
# past the threshold and nothing happens. After gc.enable(), the next container allocation
# collects (count0 is already above the threshold), and gc.collect() works all along.
# CPython: _PyObject_GC_Link checks gcstate->enabled (Modules/gcmodule.c).
import gc

gc.disable()
counts = []


class C:
    pass


gc.set_threshold(10, 10, 10)
gc.collect()
gc.freeze()
gc.collect()
keep = []
for i in range(30):
    keep.append(C())
counts.extend(gc.get_count())
gc.enable()
keep.append(C())
counts.extend(gc.get_count())
gc.disable()
print("30 instances while disabled: gc.get_count() ==", tuple(counts[0:3]))
print("one more after gc.enable(): gc.get_count() ==", tuple(counts[3:6]))
print("gc.isenabled():", gc.isenabled())
