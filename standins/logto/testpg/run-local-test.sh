#!/bin/sh
# Local end-to-end check of lobestack/logto-standin:1 against a throwaway PostgreSQL (test only).
# Creates lsdev-logto-* containers and the lsdev-logto-net network, removes them at the end.
# Usage (from standins/logto):  sh testpg/run-local-test.sh
set -eu
cd "$(dirname "$0")/.."
IMG=${IMG:-lobestack/logto-standin:1}
BASE=${BASE_IMAGE:-lobestack/bookworm-base:1}
NET=lsdev-logto-net
ENTRY='npm run cli db seed -- --swe && npm run alteration deploy 1.37.1 && npm start'

cleanup() {
  docker rm -f lsdev-logto-run1 lsdev-logto-run2 lsdev-logto-pg >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

DOCKER_BUILDKIT=0 docker build -q --build-arg BASE_IMAGE="$BASE" -t lsdev-logto-pg:1 testpg >/dev/null
docker network create "$NET" >/dev/null
docker run -d --name lsdev-logto-pg --init --network "$NET" lsdev-logto-pg:1 >/dev/null
for i in $(seq 1 30); do
  docker exec -e PGPASSWORD=postgres lsdev-logto-pg psql -h /tmp -U postgres -qc 'select 1' >/dev/null 2>&1 && break
  sleep 0.5
done
docker exec -e PGPASSWORD=postgres lsdev-logto-pg psql -h /tmp -U postgres -qc "CREATE ROLE logto LOGIN CREATEDB PASSWORD 'pw'"

run() { # name
  docker run -d --name "$1" --init --network "$NET" \
    -p 127.0.0.1:13001:3001 -p 127.0.0.1:13002:3002 \
    -e ENDPOINT=http://127.0.0.1:13001 -e ADMIN_ENDPOINT=http://127.0.0.1:13002 \
    -e DB_URL=postgres://logto:pw@lsdev-logto-pg:5432/logto -e TRUST_PROXY_HEADER=1 \
    -e AUTH_LOGTO_ID=lobechat-client -e AUTH_LOGTO_SECRET=s3cret-client-secret -e APP_URL=http://localhost:3210 \
    -e LOGTO_STANDIN_USERS=alice:alice-pass-123,bob:bob-pass-456 \
    --entrypoint sh "$IMG" -c "$ENTRY" >/dev/null
  for i in $(seq 1 40); do
    wget -q -O /dev/null http://127.0.0.1:13001/api/status 2>/dev/null && return 0
    sleep 0.25
  done
  docker logs "$1"; echo "stand-in did not come up"; exit 1
}

echo "== first start (seeds)"; run lsdev-logto-run1; docker logs lsdev-logto-run1 2>&1 | grep '^\['
docker rm -f lsdev-logto-run1 >/dev/null
echo "== second start (seed skipped)"; run lsdev-logto-run2; docker logs lsdev-logto-run2 2>&1 | grep '^\['
echo "== selftest"
python3 selftest.py --base http://127.0.0.1:13001 --client-id lobechat-client --client-secret s3cret-client-secret \
  --user alice --password alice-pass-123 --admin-base http://127.0.0.1:13002 --expect-trust-proxy
echo "== without a database"
if docker run --rm --init -e DB_URL=postgres://logto:pw@lsdev-logto-nodb:5432/logto --entrypoint sh "$IMG" -c "$ENTRY" >/tmp/lsdev-logto-nodb.log 2>&1; then
  echo "FAIL: started without a database"; exit 1
fi
grep '^\[error\]' /tmp/lsdev-logto-nodb.log
echo "ALL OK"
