"""The rehearsal caps glibc's malloc arenas, so its thousands of short-lived threads don't grow its RSS."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# A child process: (optionally) cap, then start threads that each malloc a block while all are alive, and
# count the heaps glibc reports (malloc_info's XML has one <heap nr=…> per arena).
CHILD = """
import ctypes, ctypes.util, os, sys, tempfile, threading
from afc.rehearse.arenas import cap_arenas
if sys.argv[1] == "cap":
    assert cap_arenas()
barrier = threading.Barrier(8)
kept = []
def work():
    kept.append(bytearray(200_000))  # past pymalloc's small objects: glibc's malloc, in this thread's arena
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
path = os.path.join(tempfile.mkdtemp(), "info.xml")
fp = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(fp))
libc.fclose(ctypes.c_void_p(fp))
print(open(path).read().count("<heap nr="))
"""

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")


def heaps(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_capped_threads_share_two_arenas() -> None:
    assert heaps("cap") <= 2


def test_without_the_cap_threads_get_arenas_of_their_own() -> None:
    assert heaps("free") > 2  # the test would pass vacuously if the count did not see arenas at all


# A child process: (optionally) fix the threshold, free a 4 MB block (glibc then raises its threshold to 4 MB),
# then hold a 1 MB block and print how many blocks glibc has mapped on their own (mallinfo2's hblks).
MAPPED = """
import ctypes, ctypes.util, sys
from afc.rehearse.arenas import map_large_blocks
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = Info
if sys.argv[1] == "fixed":
    assert map_large_blocks()
before = libc.mallinfo2().hblks
big = bytearray(4 << 20)
del big
held = bytearray(1 << 20)
print(libc.mallinfo2().hblks - before)
"""


def mapped(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", MAPPED, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_large_blocks_stay_mapped_after_a_larger_one_was_freed() -> None:
    assert mapped("fixed") >= 1  # returned to the system when freed, not kept by the heap


def test_without_the_fixed_threshold_a_freed_large_block_moves_the_next_to_the_heap() -> None:
    assert mapped("free") == 0  # the test would pass vacuously if glibc mapped it anyway
