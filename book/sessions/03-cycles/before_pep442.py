# Before PEP 442: Python 2.7 never frees a cycle that holds an object with a __del__, and puts
# such objects in gc.garbage instead.
# python: 2.7
# mode: repl
import gc
class Node(object):
    def __del__(self):
        print("__del__ of " + self.name)

a = Node()
b = Node()
a.name, b.name = "a", "b"
a.other, b.other = b, a
del a, b
gc.collect()
len(gc.garbage)
gc.garbage[0].name, gc.garbage[1].name
gc.collect()
del gc.garbage[0].other, gc.garbage[1].other
del gc.garbage[:]
