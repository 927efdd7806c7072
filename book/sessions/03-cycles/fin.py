# gc.is_finalized inside __del__: when counting frees the object, and when the collector does.
import gc
gc.disable()
class A:
    def __del__(self):
        print("inside __del__, gc.is_finalized(self):", gc.is_finalized(self))
a = A()
del a
b = A()
b.me = b
del b
print("gc.collect():", gc.collect())
