# What it shows: a cycle is garbage only when nothing outside it refers to it. A 2-cycle of
# lists is kept by a name, then only by another live container (`holder`, which is not part
# of the cycle): both times gc.collect() finds nothing. Once `holder` is deleted (reference
# counting frees it at once, so it is not counted) the cycle's two lists are found.
# CPython: after subtract_refs, gc_refs counts only references from outside the collected
# set; move_unreachable makes everything reachable from an object with gc_refs > 0 reachable
# (visit_reachable) (Modules/gcmodule.c).
# Rust test: labs/03-cycles/tests/parity.rs, cycle_reachable_from_outside.
import gc

gc.disable()
gc.collect()
gc.freeze()

a = []
b = [a]
a.append(b)
del b
n = gc.collect()
print("a bound to a name: gc.collect():", n)
holder = [a]
del a
n = gc.collect()
print("only holder refers to it: gc.collect():", n)
del holder
n = gc.collect()
print("after del holder: gc.collect():", n)
