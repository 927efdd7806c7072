# What it shows: the order in which one `del` destroys what the dead object held. A list and a
# tuple release their items last to first; a dict releases its entries first to last; in a
# chain a -> b -> c, a is finalized first, then what it held dies.
# CPython: list_dealloc and tupledealloc decref backwards ("Do it backwards, for Christian
# Tismer"); dict_dealloc goes in entry order; subtype_dealloc calls tp_finalize before it
# clears the instance's attributes.
# pyheap: Heap::dealloc (death.rs) and Kind::take_references (object.rs).
import gc

gc.disable()


class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("__del__", self.name)


items = [C("l1"), C("l2"), C("l3")]
print("del items")
del items
t = (C("t1"), C("t2"), C("t3"))
print("del t")
del t
d = {}
d["k1"] = C("d1")
d["k2"] = C("d2")
d["k3"] = C("d3")
print("del d")
del d
a = C("a")
a.next = C("b")
a.next.next = C("c")
print("del a")
del a
print("end")
