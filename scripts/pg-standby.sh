#!/usr/bin/env bash
# A streaming-replication standby of the local PostgreSQL cluster on port 5433 (Debian's
# postgresql-common): for test/replicas.test.ts. Idempotent: starts the standby when it exists,
# creates it (pg_basebackup -R) when it does not. Needs root (or the postgres user).
set -euo pipefail
version=$(ls /etc/postgresql | sort -n | tail -n1)
port=${STANDBY_PORT:-5433}
hba=/etc/postgresql/$version/main/pg_hba.conf
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# replication connections from loopback (the test servers trust loopback already)
if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$hba"; then
  echo "host replication all 127.0.0.1/32 trust" >> "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi

data=/var/lib/postgresql/$version/standby
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx standby; then
  pg_createcluster "$version" standby -p "$port" >/dev/null
  rm -rf "$data"
fi
if [ ! -f "$data/standby.signal" ]; then
  # the data directory is a copy of the primary's, replaying its WAL as a hot standby
  rm -rf "$data"
  install -d -o postgres -g postgres -m 700 "$data"
  as_postgres pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D "$data" -R -X stream -c fast
fi
# the standby authenticates as the primary does
if ! cmp -s "$hba" "/etc/postgresql/$version/standby/pg_hba.conf"; then
  cp "$hba" "/etc/postgresql/$version/standby/pg_hba.conf"
  if pg_isready -h 127.0.0.1 -p "$port" -q; then pg_ctlcluster --skip-systemctl-redirect "$version" standby reload; fi
fi
if ! pg_isready -h 127.0.0.1 -p "$port" -q; then
  pg_ctlcluster --skip-systemctl-redirect "$version" standby start
fi
for i in $(seq 1 30); do
  if pg_isready -h 127.0.0.1 -p "$port" -q; then break; fi
  sleep 1
done
psql -h 127.0.0.1 -p "$port" -U postgres -d test -Atc "SELECT pg_is_in_recovery()" | grep -qx t
echo "standby on port $port"
