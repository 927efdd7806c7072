# The same on CPython 3.12, where 7 and None are immortal (PEP 683): their count is a fixed value
# that Py_INCREF and Py_DECREF leave alone.
# python: 3.12
# mode: repl
import sys
sys.getrefcount(7)
sevens = [7] * 1000
sys.getrefcount(7)
del sevens
sys.getrefcount(7)
sys.getrefcount(None)
