# Where CPython 3.11 puts 80 objects of 433 bytes (size class 27, blocks of 448 bytes): the
# number of each one's block in its 16 KiB pool; then three blocks of one full pool are freed and
# three more objects made.
POOL, HEADER, BLOCK = 16 * 1024, 48, 448


def block_number(obj):
    offset = id(obj) % POOL                 # where the object sits inside its 16 KiB pool
    assert (offset - HEADER) % BLOCK == 0   # always 48 + a whole number of 448-byte blocks
    return (offset - HEADER) // BLOCK


objs = [bytes(400) for _ in range(80)]      # sys.getsizeof: 433 bytes, so size class 27
numbers = [block_number(o) for o in objs]
print("carved:")
for start in range(0, len(numbers), 20):
    print("   ", " ".join(f"{n:2}" for n in numbers[start:start + 20]))
pool = id(objs[50]) // POOL
del objs[60], objs[55], objs[50]            # three blocks of one pool, freed in this order
again = [bytes(400) for _ in range(3)]
same_pool = all(id(o) // POOL == pool for o in again)
print("reused:", [block_number(o) for o in again], "same pool:", same_pool)
