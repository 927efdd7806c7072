# What it shows: a garbage cycle that refers to a live object. The cycle's two lists are
# collected (gc.collect() returns 2); the live list, still bound to a name, survives, and
# the reference the cycle held to it is given back: its count drops by one. The live list
# is reachable from outside, so it is never counted.
# CPython: delete_garbage -> tp_clear of a list (_list_clear) drops the references the
# garbage held (Modules/gcmodule.c, Objects/listobject.c).
# Rust test: labs/03-cycles/tests/parity.rs, cycle_holding_live_object.
import gc
import sys

gc.disable()
gc.collect()
gc.freeze()

live = []
a = []
b = [a]
a.append(b)
a.append(live)
print("before: sys.getrefcount(live):", sys.getrefcount(live))
del a, b
n = gc.collect()
print("gc.collect():", n)
print("after: sys.getrefcount(live):", sys.getrefcount(live))
print("gc.is_tracked(live):", gc.is_tracked(live))
