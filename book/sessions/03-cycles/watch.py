# A first look at the cyclic collector: a list that contains itself, two instances that refer to
# each other, and what gc.collect() finds.
# mode: repl
import gc, sys, weakref
gc.collect()
a = []
a.append(a)
sys.getrefcount(a)
a
gc.get_referents(a)[0] is a
del a
gc.collect()
class Node:
    pass

x = Node()
y = Node()
x.partner = y
y.partner = x
sys.getrefcount(x), sys.getrefcount(y)
[type(r).__name__ for r in gc.get_referents(x)]
probe = weakref.ref(x)
del x, y
sys.getrefcount(probe())
probe().partner.partner is probe()
gc.collect()
probe()
