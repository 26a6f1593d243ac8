#!/bin/sh
set -e
ext=/usr/share/postgresql/15/extension
install_stub() { cp /opt/vector.control /opt/vector--0.0.0.sql "$ext/"; }
if [ "$PGVECTOR_STUB" = 1 ]; then install_stub; else rm -f "$ext/vector.control" "$ext/vector--0.0.0.sql"; fi
exec su postgres -s /bin/sh -c "exec /usr/lib/postgresql/15/bin/postgres -D /var/lib/pg/data"
