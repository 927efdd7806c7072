# What it shows: `self.callback = self.method` stores a bound method, which holds the instance:
# a cycle of two objects (the instance and the method object). Calling `self.method()` directly
# makes no such object (LOAD_METHOD), so it leaves no cycle.
# CPython: LOAD_ATTR makes a bound method (method_new in Objects/classobject.c); LOAD_METHOD
# does not (Python/ceval.c).
import gc

gc.disable()


class Job:
    def __init__(self, name):
        self.name = name

    def run(self):
        return self.name + " ran"

    def __del__(self):
        print("  __del__", self.name)


gc.collect()
gc.freeze()

a = Job("direct")
print(a.run())
del a
print("after del a")
b = Job("stored")
b.callback = b.run
print(b.callback())
del b
print("after del b")
n = gc.collect()
print("gc.collect():", n)
