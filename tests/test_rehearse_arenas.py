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
