"""No network for query workers: a seccomp filter installed in each worker after fork.

The SPARQL check in :mod:`kgraph.web.safety` refuses SERVICE and LOAD, but a check can be wrong.
A worker therefore installs, before it opens the store, a seccomp-BPF filter that makes
``socket()`` fail with EACCES for every address family except ``AF_UNIX`` (the pipe to the server
is an inherited AF_UNIX socket pair) and forbids ``io_uring_setup`` (io_uring can create sockets
without the ``socket`` system call). Once installed it cannot be removed, not even by root, and
every thread the engine starts later inherits it. It needs no privilege: ``PR_SET_NO_NEW_PRIVS``
comes first, which any process may set.

As root the worker additionally moves into a network namespace of its own (``unshare``), which
has no interface but a loopback that is down: belt and braces.

If the filter cannot be installed (not Linux, unknown CPU architecture, a kernel without
seccomp) the worker is *not* sandboxed; :func:`install` says why, and the worker then refuses
every request that mentions SERVICE or LOAD anywhere in its text (fail closed).
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys
from dataclasses import dataclass

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
CLONE_NEWNET = 0x40000000
AF_UNIX = 1

# BPF opcodes
BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
BPF_RET_K = 0x06  # BPF_RET | BPF_K

# offsets in struct seccomp_data
NR, ARCH, ARG0 = 0, 4, 16

# machine -> (AUDIT_ARCH_*, socket, io_uring_setup)
ARCHITECTURES = {
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}
X32_SYSCALL_BIT = 0x40000000


@dataclass(frozen=True)
class SandboxStatus:
    """Whether a worker is cut off from the network, and how (or why not)."""

    seccomp: bool
    netns: bool
    reason: str

    @property
    def isolated(self) -> bool:
        return self.seccomp or self.netns


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def filter_program(machine: str) -> bytes:
    """The BPF program: EACCES for non-AF_UNIX sockets and io_uring, allow everything else."""
    arch, sys_socket, sys_io_uring = ARCHITECTURES[machine]
    deny = SECCOMP_RET_ERRNO | errno.EACCES
    program = [
        _instruction(BPF_LD_W_ABS, 0, 0, ARCH),
        _instruction(BPF_JEQ_K, 1, 0, arch),  # other ABI (e.g. i386 via int 0x80): deny all
        _instruction(BPF_RET_K, 0, 0, deny),
        _instruction(BPF_LD_W_ABS, 0, 0, NR),
        _instruction(BPF_JGE_K, 0, 1, X32_SYSCALL_BIT),  # x32 ABI numbers: deny
        _instruction(BPF_RET_K, 0, 0, deny),
        _instruction(BPF_JEQ_K, 0, 1, sys_io_uring),
        _instruction(BPF_RET_K, 0, 0, deny),
        _instruction(BPF_JEQ_K, 1, 0, sys_socket),
        _instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        _instruction(BPF_LD_W_ABS, 0, 0, ARG0),  # socket(domain, ...): low word of arg 0
        _instruction(BPF_JEQ_K, 0, 1, AF_UNIX),
        _instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        _instruction(BPF_RET_K, 0, 0, deny),
    ]
    return b"".join(program)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _install_seccomp() -> str | None:
    """Install the filter in this process; None on success, else the reason it failed."""
    if not sys.platform.startswith("linux"):
        return f"seccomp needs Linux (this is {sys.platform})"
    machine = platform.machine()
    if machine not in ARCHITECTURES:
        return f"no seccomp filter for the {machine} architecture"
    if sys.byteorder != "little":
        return "seccomp filter written for little-endian machines"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}"
    code = filter_program(machine)
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        return f"prctl(PR_SET_SECCOMP) failed: {os.strerror(ctypes.get_errno())}"
    return None


def _unshare_network() -> str | None:
    """Root only: a network namespace of this process's own (no usable interface)."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())}"
    return None


def install() -> SandboxStatus:
    """Cut this (worker) process off the network; call it after fork, before opening stores."""
    netns_error = _unshare_network() if os.geteuid() == 0 else "not root"
    seccomp_error = _install_seccomp()
    reasons = []
    if seccomp_error:
        reasons.append(seccomp_error)
    if netns_error and netns_error != "not root":
        reasons.append(netns_error)
    return SandboxStatus(seccomp_error is None, netns_error is None, "; ".join(reasons))


def network_blocked() -> bool:
    """Probe: can this process still create an Internet socket?"""
    import socket

    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return True
    sock.close()
    return False
