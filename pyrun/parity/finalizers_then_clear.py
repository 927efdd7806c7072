# What it shows: when the collector frees a cycle, every __del__ of the cycle runs first, while
# every member is still intact (a __del__ can read its neighbours), and only then are the
# members cleared. A __del__ reading another member's attribute always finds it.
# CPython: finalize_garbage runs before delete_garbage (Modules/gcmodule.c, PEP 442).
import gc

gc.disable()


class Node:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name, "-> next is", self.next.name)


gc.collect()
gc.freeze()

a = Node("a")
b = Node("b")
c = Node("c")
a.next = b
b.next = c
c.next = a
del a, b, c
print("gc.collect():", gc.collect())
print("again:", gc.collect())
