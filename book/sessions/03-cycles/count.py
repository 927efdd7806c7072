# What gc.collect() counts for a cycle of two instances, before and after their __dict__ is asked
# for, on every CPython installed here.
# python: 2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13
import gc, sys
class Node(object):
    pass
a = Node(); b = Node()
a.other, b.other = b, a
del a, b
plain = gc.collect()
a = Node(); b = Node()
a.other, b.other = b, a
a.__dict__; b.__dict__
del a, b
touched = gc.collect()
print("%s: %d, and %d after __dict__" % (sys.version.split()[0], plain, touched))
