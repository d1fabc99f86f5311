"""A free TCP port for a server a test or bench starts.

Asking the kernel for port 0 hands out a port from the ephemeral range (32768–60999 on Linux),
the same range outgoing connections take their local ports from: between the probe and the
server's bind, a connection to PostgreSQL or Redis may take it ("Address already in use"). So
the port is drawn below that range, where only listening servers live."""

import random
import socket

LOW, HIGH = 20000, 32000


def free_port() -> int:
    for _ in range(200):
        port = random.randint(LOW, HIGH)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {LOW} and {HIGH}")
