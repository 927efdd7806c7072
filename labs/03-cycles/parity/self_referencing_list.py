# What it shows: the smallest reference cycle, a list that holds itself. `del a` leaves it with
# a count of 1 (its own item), so reference counting never frees it; gc.collect() finds it and
# returns 1, the number of unreachable tracked containers. A second collection finds nothing.
# CPython: gc_collect_main -> deduce_unreachable (update_refs, subtract_refs,
# move_unreachable) -> delete_garbage, which calls list's tp_clear (_list_clear)
# (Modules/gcmodule.c, Objects/listobject.c).
# Rust test: labs/03-cycles/tests/parity.rs, self_referencing_list.
import gc
import sys

gc.disable()
# Start-up garbage goes now, and start-up objects move to the permanent generation, which no
# collection looks at: from here on the collections see only this scenario's objects.
gc.collect()
gc.freeze()

a = []
a.append(a)
print("gc.is_tracked(a):", gc.is_tracked(a))
print("sys.getrefcount(a):", sys.getrefcount(a))
del a
n = gc.collect()
print("gc.collect():", n)
n = gc.collect()
print("gc.collect() again:", n)
