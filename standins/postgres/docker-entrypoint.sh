#!/usr/bin/env bash
# lobestack postgres entrypoint: the subset of the official postgres image's docker-entrypoint.sh that
# lobestack uses. Env: POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
# POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default $POSTGRES_USER), PGDATA, POSTGRES_INITDB_ARGS,
# POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), and *_FILE variants of USER/PASSWORD/DB.
# /docker-entrypoint-initdb.d: *.sql, *.sql.gz, *.sh run once, on first start (empty PGDATA).
set -Eeo pipefail

file_env() {  # VAR or VAR_FILE, like the official image
    local var="$1" fileVar="${1}_FILE" def="${2:-}"
    if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
        echo >&2 "error: both $var and $fileVar are set (but are exclusive)"; exit 1
    fi
    local val="$def"
    if [ "${!var:-}" ]; then val="${!var}"; elif [ "${!fileVar:-}" ]; then val="$(< "${!fileVar}")"; fi
    export "$var"="$val"
    unset "$fileVar"
}

pgvector_note() {
    local v; v="$(cat /usr/share/lobestack/pgvector-version 2>/dev/null || echo unknown)"
    if [ "$v" = none ]; then
        echo "lobestack: this image was built WITHOUT pgvector (WITH_PGVECTOR=0): CREATE EXTENSION vector will fail"
    else
        echo "lobestack: PostgreSQL $(cat /usr/share/lobestack/postgresql-version 2>/dev/null || echo 17) (Debian trixie) with pgvector $v"
    fi
}

docker_process_init_files() {
    local f
    for f in "$@"; do
        case "$f" in
            *.sh)
                if [ -x "$f" ]; then echo "$0: running $f"; "$f"
                else echo "$0: sourcing $f"; . "$f"; fi ;;
            *.sql)    echo "$0: running $f"; psql_run -f "$f"; echo ;;
            *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | psql_run; echo ;;
            *)        echo "$0: ignoring $f" ;;
        esac
    done
}

psql_run() {
    PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc \
        --dbname "${PSQL_DB:-$POSTGRES_DB}" "$@"
}

init_database() {
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        cat >&2 <<'EOM'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
EOM
        exit 1
    fi
    local pwfile
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    # shellcheck disable=SC2086
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
        --encoding=UTF8 --locale=C.UTF-8 $POSTGRES_INITDB_ARGS -D "$PGDATA"
    rm -f "$pwfile"
    # like the official image: any host may connect, with the password (scram-sha-256)
    printf '\n# lobestack (as the official postgres image)\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" \
        >> "$PGDATA/pg_hba.conf"

    # temporary server on the unix socket only, for POSTGRES_DB and the init scripts
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
    if [ "$POSTGRES_DB" != postgres ]; then
        PSQL_DB=postgres psql_run --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
        echo
    fi
    shopt -s nullglob
    docker_process_init_files /docker-entrypoint-initdb.d/*
    shopt -u nullglob
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo
    echo 'PostgreSQL init process complete; ready for start up.'
    echo
}

# `docker run IMAGE -c foo=bar` -> postgres -c foo=bar
if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

if [ "$1" = postgres ]; then
    file_env POSTGRES_USER postgres
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_DB "$POSTGRES_USER"
    export POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA"
        chmod 00700 "$PGDATA" || :
        find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
        mkdir -p /var/run/postgresql
        chown postgres:postgres /var/run/postgresql
        chmod 3777 /var/run/postgresql
        # drop privileges and re-run this script as postgres (setpriv: util-linux, execs -> signals reach postgres)
        exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
    fi

    pgvector_note
    if [ -s "$PGDATA/PG_VERSION" ]; then
        echo
        echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
        echo
    else
        init_database
    fi
fi

exec "$@"
