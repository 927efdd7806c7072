# A chain of a million objects, each holding the previous one, deleted at once: the whole chain
# dies inside one `del`, one deallocator calling the next. Each chain is built and deleted in a
# child process, so that a crash is a result to print rather than the end of this script.
import signal
import subprocess
import sys

BUILD_AND_DELETE = """
import sys
grow = {"tuple": lambda x: (x,), "list": lambda x: [x], "enumerate": enumerate}[sys.argv[1]]
x = iter(())
for _ in range(1_000_000):
    x = grow(x)   # each new object holds the previous one
del x             # the whole chain dies here, one object after another
print("freed")
"""

for kind in ["tuple", "list", "enumerate"]:
    child = subprocess.run(
        [sys.executable, "-c", BUILD_AND_DELETE, kind], capture_output=True, text=True
    )
    if child.returncode < 0:
        outcome = f"the process died of {signal.Signals(-child.returncode).name}"
    else:
        outcome = child.stdout.strip()
    print(f"a chain of a million {kind} objects: {outcome}")
