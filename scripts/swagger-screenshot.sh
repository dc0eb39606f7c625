#!/usr/bin/env bash
# Renders the Swagger UI of examples/serve.ts in headless Chromium (Debian's `chromium`:
# apt-get install -y chromium), writes docs/swagger-ui.png, and checks that the page lists the
# models' operations (the rendered DOM names each operation id).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-3917}
tmp=$(mktemp -d)
PORT=$PORT DATABASE_URL="sqlite:$tmp/swagger.sqlite" npx tsx examples/serve.ts > "$tmp/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break; sleep 0.1; done
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/profile")
chromium "${flags[@]}" --virtual-time-budget=10000 --dump-dom "http://127.0.0.1:$PORT/docs" > "$tmp/dom.html" 2>/dev/null
for op in User.create User.list User.read User.update User.delete User.count User.upsert User.bulkCreate Post.list Post.read Post.count; do
  grep -q "$op" "$tmp/dom.html" || { echo "Swagger UI does not list $op"; exit 1; }
done
chromium "${flags[@]}" --virtual-time-budget=10000 --window-size=1280,2000 --screenshot="$PWD/docs/swagger-ui.png" "http://127.0.0.1:$PORT/docs" 2>/dev/null
echo "Swagger UI lists the operations; screenshot: docs/swagger-ui.png"
