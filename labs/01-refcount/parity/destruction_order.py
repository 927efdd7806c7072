# The order in which CPython 3.11 destroys nested containers when the last reference to the
# outermost one goes: top = (a, b), a = ('x',), b = ('y', 'z'), every object held only by the
# tuple that contains it. Each tuple (a tuple subclass here, so that it can print) says when it
# dies: tupledealloc releases the items from the last to the first, and each item's own contents
# die before the next item is released, as recursion would have it.
import gc

gc.disable()


class Named(tuple):
    def __new__(cls, name, *items):
        self = super().__new__(cls, items)
        self.name = name
        return self

    def __del__(self):
        print(self.name)


top = Named("top", Named("a", Named("'x'")), Named("b", Named("'y'"), Named("'z'")))
del top
