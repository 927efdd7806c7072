# What it shows: an exception that leaves a function keeps that function's frame, and so its
# locals, alive through its traceback until the exception is handled: the local's __del__ runs at
# the end of the except clause, not when the function is left.
# CPython: the traceback holds the frame object (PyTraceBack_Here); the handler's `del e` and
# POP_EXCEPT release the exception (Python/compile.c, Python/ceval.c).
class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)


def fails():
    local = C("local of fails")
    raise ValueError("boom")


def returns():
    local = C("local of returns")
    return 1


returns()
print("returns() returned")
try:
    fails()
except ValueError as e:
    print("caught:", e)
    print("still in the handler")
print("after the handler")
