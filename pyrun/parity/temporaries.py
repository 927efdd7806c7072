# What it shows: a temporary dies as soon as the instruction that used it is done: an object made
# and dropped in an expression statement dies before the next statement; an argument lives until
# the call returns; an object whose attribute or method result is all that is used dies before
# that result is printed; the left operand of a comparison dies before the right one.
# CPython: POP_TOP after an expression statement; CALL decrefs the arguments after the call;
# COMPARE_OP / IS_OP decref the left operand, then the right (Python/ceval.c).
class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)

    def hello(self):
        return "hello from " + self.name


print("1. an expression statement")
C("made and dropped")
def describe(obj):
    print("  describing", obj.name)


print("2. an argument")
describe(C("argument"))
print("3. an attribute of a temporary")
print("  printing", C("attribute").name)
print("4. a method call on a temporary")
print(" ", C("temporary").hello())
print("5. a comparison")
same = C("left") is C("right")
print("  same:", same)
print("end")
