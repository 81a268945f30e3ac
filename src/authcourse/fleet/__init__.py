"""Many mini-servers behind one round-robin load balancer: the course's scale-out lab.

`Fleet` starts N servers (each with its own store or one shared store, its own secret or one
shared secret) and a balancer in front of them: `BuiltinBalancer` in this process (nothing to
install) or `NginxBalancer`, Debian's nginx with a generated upstream block. `SharedStore` is the
store they share over TCP: fakeredis's TCP server, a throwaway redis-server, or any URL.
`experiments` runs the lab's experiments and returns what the chapter draws and the tests assert.
"""

from __future__ import annotations

from ..realservers.nginx import NginxBalancer, NginxUnavailable, nginx_binary
from .balancer import Balancer, BalancerError, BuiltinBalancer, open_balancer
from .fleet import Fleet, FleetError
from .sharedstore import SharedStore

__all__ = [
    "Balancer",
    "BalancerError",
    "BuiltinBalancer",
    "Fleet",
    "FleetError",
    "NginxBalancer",
    "NginxUnavailable",
    "SharedStore",
    "nginx_binary",
    "open_balancer",
]
