# What it shows: a closure is a cycle waiting to happen. `make` keeps a callback that closes over
# the instance that stores it: the instance holds the function, the function its closure tuple,
# the tuple the cell, the cell the instance. Reference counting cannot free them; gc.collect()
# finds four tracked containers: the instance, the function, the tuple and the cell.
# CPython: MAKE_CELL and MAKE_FUNCTION with a closure (Python/ceval.c); func_traverse and
# cell_traverse (Objects/funcobject.c, Objects/cellobject.c).
import gc

gc.disable()


class Widget:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)


def make(name):
    w = Widget(name)

    def on_click():
        return w.name

    w.handler = on_click
    return w


gc.collect()
gc.freeze()

w = make("button")
print("the handler sees:", w.handler())
del w
print("after del w")
n = gc.collect()
print("gc.collect():", n)
