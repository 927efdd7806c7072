# Two instances with a __del__ in a cycle, collected since PEP 442 (Python 3.4).
# mode: repl
import gc, sys
class Node(object):
    def __del__(self):
        print("__del__ of " + self.name)

a = Node()
b = Node()
a.name, b.name = "a", "b"
a.other, b.other = b, a
del a, b
gc.collect()
gc.garbage
len(gc.garbage)
