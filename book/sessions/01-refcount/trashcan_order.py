# The order in which CPython 3.11 destroys a chain of 60 nodes, each holding a leaf and the next
# node: n1 = [l1, n2], n2 = [l2, n3], ... Each node and each leaf is an instance of a list
# subclass whose __del__ prints its name, and a list releases its items last to first, so plain
# recursion would destroy n1, n2, ... n60, then l60, l59, ... l1. The trashcan defers whatever
# would be destroyed 50 deallocators deep, and destroys it once the outermost one has returned.
import gc

gc.disable()


class Named(list):
    def __init__(self, name, items):
        super().__init__(items)
        self.name = name

    def __del__(self):
        order.append(self.name)


order = []
chain = None
for k in range(60, 0, -1):
    items = [Named(f"l{k}", [])]
    if chain is not None:
        items.append(chain)
    chain = Named(f"n{k}", items)
del items  # the last node's list of items; the node holds its own copy
del chain
for start in range(0, len(order), 15):
    print(" ".join(order[start:start + 15]))
