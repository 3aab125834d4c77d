"""Turn off Nagle's algorithm on the listening socket Streamlit binds for `st.App`.

Why this exists: in `st.App` mode Streamlit binds the listening socket itself with
`socket.socket(family=...)`, so its protocol number is 0 rather than IPPROTO_TCP. Sockets
accepted from it inherit that 0, and asyncio only sets TCP_NODELAY on transports whose socket
says IPPROTO_TCP (`asyncio.base_events._set_nodelay`). uvicorn then writes a response's head and
body in two writes; with Nagle on, the body waits for the ACK of the head, which the client delays
by ~40 ms. Every request after the first on a kept-alive connection paid that.

Linux (and the BSDs) copy TCP_NODELAY from a listening socket to the sockets it accepts, so setting
it once on the listener, before the server starts accepting, covers every connection: HTTP routes
and Streamlit's websocket alike. The lifespan runs after Streamlit binds and before uvicorn
accepts, which is the moment to call `enable_tcp_nodelay_on_listeners`.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

# Where the kernel lists this process's open file descriptors (Linux, then macOS/BSD).
_FD_DIRECTORIES = (Path("/proc/self/fd"), Path("/dev/fd"))


def enable_tcp_nodelay_on_listeners(port: int | None = None) -> int:
    """Set TCP_NODELAY on this process's listening TCP sockets that lack it.

    `port` restricts the change to listeners bound to that port. Returns how many sockets were
    changed: 0 when there is nothing to fix (already set, no listener, or a platform that does not
    list its descriptors), so calling it is always safe.
    """
    changed = 0
    for fd in _open_socket_descriptors():
        try:
            # A duplicate descriptor refers to the same kernel socket, so the option lands on the
            # listener, while closing our object can never close the descriptor uvicorn owns.
            duplicate = os.dup(fd)
        except OSError:
            continue  # closed since it was listed
        try:
            sock = socket.socket(fileno=duplicate)
        except OSError:
            os.close(duplicate)
            continue
        with sock:
            if _needs_nodelay(sock, port):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                changed += 1
    return changed


def _open_socket_descriptors() -> list[int]:
    for directory in _FD_DIRECTORIES:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        descriptors: list[int] = []
        for name in names:
            if not name.isdigit():
                continue
            fd = int(name)
            try:
                is_socket = stat.S_ISSOCK(os.fstat(fd).st_mode)
            except OSError:
                continue  # the descriptor listdir itself used, already closed
            if is_socket:
                descriptors.append(fd)
        return descriptors
    return []


def _needs_nodelay(sock: socket.socket, port: int | None) -> bool:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        return False
    # 0 where the platform cannot tell a descriptor's protocol; rules out e.g. SCTP streams.
    if sock.proto not in (0, socket.IPPROTO_TCP):
        return False
    try:
        listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
        already_set = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        bound_port = sock.getsockname()[1]
    except OSError:
        return False
    return bool(listening) and not already_set and (port is None or bound_port == port)
