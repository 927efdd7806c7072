# The answers to the questions of "Predict, then run" (part b): the order of two __del__s in a
# dict and in a list, the count of an object held three times by a list, and a chain of a
# million dicts deleted at once (in a child process, so that a crash would be printed).
import subprocess
import sys


class A:
    def __del__(self):
        print("  A.__del__")


class B:
    def __del__(self):
        print("  B.__del__")


print("del d, where d = {'a': A(), 'b': B()}:")
d = {"a": A(), "b": B()}
del d
print("del l, where l = [A(), B()]:")
l = [A(), B()]
del l

x = []
y = [x, x, x]
del x
print("sys.getrefcount(y[0]):", sys.getrefcount(y[0]))

CHAIN = """
x = None
for _ in range(1_000_000):
    x = {"next": x}
del x
print("freed")
"""
child = subprocess.run([sys.executable, "-c", CHAIN], capture_output=True, text=True)
outcome = child.stdout.strip() if child.returncode >= 0 else f"died of signal {-child.returncode}"
print("a chain of a million dicts:", outcome)
