# What it shows: a 3-cycle of instances whose class has a `__del__`, plus one instance
# without. Since PEP 442 (3.4) such a cycle is collected: every `__del__` runs once, before
# anything is cleared, then the cycle is freed: gc.collect() returns 4, and gc.garbage stays
# empty. A second collection finds nothing and calls no `__del__`.
# The `__del__`s run in the order of the unreachable list, which is not always the order the
# objects were made: a full collection appends generation 0, then generation 1, to generation
# 2. So when e and f were promoted to generation 1 before g and h were made, g and h come
# first: g, h, e, f. And a collection can reorder the objects that survive it: when x (made
# first) is reachable only through y, move_unreachable first moves x to the unreachable list,
# then, traversing y, moves it back to the end of the young list, after y; so when x and y
# later die together, y's `__del__` runs first.
# CPython: gc_collect_main merges the younger generations in order (gc_list_merge);
# visit_reachable moves an object back to the tail of young (gc_list_append);
# finalize_garbage calls tp_finalize (slot_tp_finalize -> __del__) on each unreachable object
# not yet finalized, in list order, and sets _PyGC_PREV_MASK_FINALIZED (Modules/gcmodule.c).
# Rust test: labs/03-cycles/tests/parity.rs, finalizers_in_cycle.
import gc

gc.disable()


class C:
    def __init__(self, name):
        self.name = name


class D:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("__del__", self.name)


gc.collect()
gc.freeze()

a = D("a")
b = D("b")
plain = C("plain")
c = D("c")
a.next = b
b.next = plain
plain.next = c
c.next = a
print("gc.is_finalized(a):", gc.is_finalized(a))
del a, b, plain, c
n = gc.collect()
print("gc.collect():", n)
print("len(gc.garbage):", len(gc.garbage))
n = gc.collect()
print("gc.collect() again:", n)
e = D("e")
f = D("f")
e.next = f
f.next = e
gc.collect(0)
g = D("g")
h = D("h")
g.next = h
h.next = g
f.other = g
del e, f, g, h
n = gc.collect()
print("e, f from generation 1, g, h from generation 0: gc.collect():", n)
x = D("x")
y = D("y")
y.other = x
del x
gc.collect(0)
x = y.other
x.other = y
del x, y
n = gc.collect()
print("x made before y, reordered by a collection: gc.collect():", n)
