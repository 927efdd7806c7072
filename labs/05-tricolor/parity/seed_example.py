# What it shows: the study note's example, A -> B -> C <- D <- E, with only A bound to a name
# (the roots are {A}). Tracing from the roots would keep A, B and C and free D and E. CPython
# frees D and E too, but without tracing anything: the moment `del e` drops E's last reference,
# reference counting frees E, which drops D's last reference, which frees D. gc.collect() then
# finds nothing to do. C survives although D referred to it: B still does.
# CPython: subtype_dealloc calls __del__ (tp_finalize), then clears the instance's attributes,
# which decrefs D (Objects/typeobject.c).
# Rust test: labs/05-tricolor/tests/marking.rs, seed_example_sweeps_d_and_e_and_keeps_c.
import gc
import sys

gc.disable()


class Node:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("freed", self.name)


gc.collect()
gc.freeze()

a = Node("A")
a.next = Node("B")
a.next.next = Node("C")
e = Node("E")
e.next = Node("D")
e.next.next = a.next.next
print("references to C:", sys.getrefcount(a.next.next) - 1)
print("del e")
del e
print("gc.collect():", gc.collect())
print("alive:", a.name, a.next.name, a.next.next.name)
print("references to C:", sys.getrefcount(a.next.next) - 1)
print("del a")
del a
