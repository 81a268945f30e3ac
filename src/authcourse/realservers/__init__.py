"""Throwaway real servers: Debian's redis-server, PostgreSQL and nginx, each on a free loopback port.

Each starts in a temporary folder, is ready when its constructor's `start()` returns, and stops
when told or when Python exits: `redis.RedisServer`, `postgres.PostgresServer` (run as the
`postgres` user when this process is root), `nginx.NginxBalancer`. `process` holds what they share
(a free port, ending a process).
"""
