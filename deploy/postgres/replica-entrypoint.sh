#!/bin/sh
# The replica service: on first start, copy the primary with pg_basebackup -R (which writes
# standby.signal and primary_conninfo), then run as a hot standby streaming from it.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready --host=postgres --port=5432 --quiet; do sleep 1; done
    export PGPASSWORD="$REPLICATION_PASSWORD"
    pg_basebackup --host=postgres --port=5432 --username=replicator --pgdata="$PGDATA" \
        --write-recovery-conf --wal-method=stream --checkpoint=fast --progress
    chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on
