# What it shows: two instances that refer to each other. Each count is 2 (a name and the
# other's attribute); after `del a, b` each is 1 and both are unreachable: gc.collect()
# returns 2. An instance counts as one object in CPython 3.11 because its attributes live in
# an inline values array (the script never asks for `__dict__`, which would add a dict).
# CPython: subtype_traverse visits the attribute values (Objects/typeobject.c);
# gc_collect_main counts the unreachable tracked containers (Modules/gcmodule.c).
# Rust test: labs/03-cycles/tests/parity.rs, two_instance_cycle.
import gc
import sys

gc.disable()


class C:
    def __init__(self, name):
        self.name = name


gc.collect()
gc.freeze()

a = C("a")
b = C("b")
a.partner = b
b.partner = a
print("sys.getrefcount(a):", sys.getrefcount(a))
print("sys.getrefcount(b):", sys.getrefcount(b))
del a, b
n = gc.collect()
print("gc.collect():", n)
n = gc.collect()
print("gc.collect() again:", n)
