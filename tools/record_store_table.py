"""Record chapter 2's session-store table on this machine, for readers whose machine lacks a store.

    .venv/bin/python tools/record_store_table.py                       # every store this machine has
    .venv/bin/python tools/record_store_table.py --mongodb mongodb://127.0.0.1:27017/authcourse

Starts a throwaway redis-server (append-only) and PostgreSQL where installed, measures each row
as the chapter does (authcourse.instruments.storetable) and writes notebooks/data/store-table.json, each row
labelled with the machine and the date. Chapter 2 shows a recorded row, so labelled, for any
store it cannot run itself. Debian packages no MongoDB server: give --mongodb to record a real one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from authcourse.instruments.storetable import StoreTable, load_rows, measure_table, save_rows
from authcourse.realservers.postgres import PostgresServer, postgres_bin_dir
from authcourse.realservers.redis import RedisServer, redis_server_binary

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "notebooks" / "data" / "store-table.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mongodb", help="a real MongoDB URL to record too")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    redis = RedisServer(persistent=True).start() if redis_server_binary() else None
    postgres = PostgresServer().start() if postgres_bin_dir() else None
    try:
        candidates = []
        if redis is not None:
            candidates.append(dict(store="Redis (connect-redis)", measured_on="redis-server, append-only",
                                   spec=redis.url, restart_store=redis.restart, real_clock=True))
        if postgres is not None:
            candidates.append(dict(store="PostgreSQL (connect-pg-simple)", measured_on="PostgreSQL",
                                   spec=postgres.url, restart_store=postgres.restart))
        if args.mongodb:
            candidates.append(dict(store="MongoDB (connect-mongo)", measured_on="MongoDB server", spec=args.mongodb,
                                   real_clock=True))
        if not candidates:
            print("no store server to record here (redis-server, PostgreSQL, --mongodb)", file=sys.stderr)
            return 1
        table = measure_table(candidates)
    finally:
        for server in (redis, postgres):
            if server is not None:
                server.cleanup()
    kept = load_rows(args.out) if args.out.exists() else {}
    for row in table.rows:
        kept.pop(row.measured_on, None)
    save_rows(StoreTable(tuple(kept.values()) + table.rows), args.out)
    print(table)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
