# The moment a count reaches zero the object is destroyed, inside the statement that dropped the
# last reference, even with the cyclic collector switched off.
import gc

gc.disable()


class Noisy:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__ of", self.name)


print("n = Noisy('first')")
n = Noisy("first")
print("del n")
del n
print("n = Noisy('second')")
n = Noisy("second")
print("n = 42")
n = 42
print("end of the script")
