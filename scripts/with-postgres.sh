#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server: started as the postgres
# user with its own data folder on 127.0.0.1 and a spare port, stopped and
# removed afterwards even when the command fails.
set -euo pipefail

bindir=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
datadir=$(mktemp -d /tmp/intake-pg.XXXXXX)
chown postgres:postgres "$datadir"
chmod 700 "$datadir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

as_postgres() { runuser -u postgres -- "$@"; }

cleanup() {
  as_postgres "$bindir/pg_ctl" -D "$datadir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$datadir"
}
trap cleanup EXIT INT TERM

as_postgres "$bindir/initdb" -D "$datadir/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
as_postgres "$bindir/pg_ctl" -D "$datadir/data" -w -l "$datadir/server.log" \
  -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
for db in intake_test intake_migrations; do
  as_postgres "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
done

export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/intake_test"
export TEST_MIGRATION_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/intake_migrations"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
