# Reference counting alone never frees a cycle: a list that contains itself survives `del`, and
# only the cyclic collector frees it (and runs its __del__).
import gc
import sys

gc.disable()


class NoisyList(list):
    def __del__(self):
        print("  __del__ of the list")


def self_loops():
    lists = [o for o in gc.get_objects() if isinstance(o, list)]
    return sum(1 for o in lists if o and o[0] is o)


a = NoisyList()
a.append(a)
print("a = NoisyList(); a.append(a)   getrefcount(a) =", sys.getrefcount(a))
del a
print("del a                          lists that hold themselves:", self_loops())
print("gc.collect()")
found = gc.collect()
print("                               it found", found, "unreachable object(s)")
print("                               lists that hold themselves:", self_loops())
