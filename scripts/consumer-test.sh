#!/usr/bin/env bash
# What a user of the published package does, end to end (run by .ci/run):
#  1. `npm pack`, and check the tarball holds the built package and nothing else;
#  2. a fresh project installs the tarball with only the documented dependencies
#     (`npm install effect-dataflow effect`);
#  3. a small program is typechecked against the shipped declarations (strict, with
#     `moduleResolution: nodenext` and with `bundler`, skipLibCheck off) and run on SQLite;
#  4. asking for PostgreSQL / MySQL without their drivers is a typed DriverNotInstalled
#     naming the packages to install;
#  5. with `pg @effect/sql-pg` and `mysql2` added, the same program runs against the local
#     servers (TEST_PG_URL / TEST_MYSQL_URL as in the test suite).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_url=${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
mysql_url=${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
work=$(mktemp -d)
suffix="consumer_$(date +%s)_$$"
cleanup() {
  psql "$pg_url" -qc "DROP SCHEMA IF EXISTS $suffix CASCADE" >/dev/null 2>&1 || true
  mariadb -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $suffix" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
tsc="$root/node_modules/.bin/tsc"
say() { printf '== %s\n' "$*"; }

say "npm pack"
cd "$root"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n1)"
tar -tzf "$tarball" | sort > "$work/contents.txt"
if grep -vE '^package/(dist/.+\.(js|d\.ts|js\.map|d\.ts\.map)|README\.md|LICENSE|CHANGELOG\.md|package\.json)$' "$work/contents.txt"; then
  echo "the package holds files it should not (above)" >&2
  exit 1
fi
for f in package/dist/index.js package/dist/index.d.ts package/README.md package/LICENSE package/CHANGELOG.md; do
  grep -qx "$f" "$work/contents.txt" || { echo "the package lacks $f" >&2; exit 1; }
done
echo "$(wc -l < "$work/contents.txt") files"

effect_version=$(node -p "require('$root/node_modules/effect/package.json').version")
say "fresh project: npm install <tarball> effect@$effect_version"
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund --prefer-offline "$tarball" "effect@$effect_version" >/dev/null

mkdir src
cat > src/main.ts <<'EOF'
import { Effect, Option, Schema } from "effect"
import { DataFlow, Errors, Model } from "effect-dataflow"

declare const process: { readonly argv: ReadonlyArray<string>; exitCode: number }

const User = Model.make("User", Schema.Struct({
  id: Schema.Int,
  email: Schema.String.pipe(Schema.maxLength(320)),
  name: Schema.String,
  age: Schema.NullOr(Schema.Int)
}), { unique: ["email"] })

const program = Effect.gen(function*() {
  const ada = yield* User.create({ email: `ada-${Date.now()}@example.com`, name: "Ada", age: 36 })
  const read: { readonly id: number; readonly name: string; readonly createdAt: Date } = yield* User.read(ada.id)
  yield* User.update(ada.id, { age: 37 })
  const { records } = yield* User.list({ where: { age: { $gte: 37 } }, orderBy: ["-age"], limit: 10 })
  const missing = yield* User.find(-1)
  console.log(JSON.stringify({ name: read.name, listed: records.length, missing: Option.isNone(missing) }))
})

program.pipe(
  Effect.provide(DataFlow.layer({ url: process.argv[2] })),
  Effect.catchTag("DriverNotInstalled", (e: Errors.DriverNotInstalled) =>
    Effect.sync(() => {
      console.log(`DriverNotInstalled: ${e.message}`)
      process.exitCode = 3
    })),
  Effect.runPromise
)
EOF
cat > src/testkit.ts <<'EOF'
import { Effect, FastCheck as fc, Schema } from "effect"
import { Model } from "effect-dataflow"
import * as Testing from "effect-dataflow/testing"

const Note = Model.make("Note", { id: Schema.Int, text: Schema.String, at: Schema.DateFromSelf }, { unique: ["text"] })

const program = Effect.gen(function*() {
  const rows = fc.sample(Testing.rows(Note, { size: 20 }), { numRuns: 1, seed: 1 })[0]!
  const { inserted } = yield* Note.bulkCreate(rows).pipe(Testing.rollback)
  const { runs } = yield* Testing.commands([Note], { numRuns: 3, maxCommands: 10 })
  console.log(JSON.stringify({ inserted, left: yield* Note.count(), runs }))
})

Effect.runPromise(Effect.provide(program, Testing.layerMemory))
EOF
cat > tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "lib": ["ES2022", "DOM"],
    "strict": true, "exactOptionalPropertyTypes": true, "skipLibCheck": false, "outDir": "out", "rootDir": "src"
  },
  "include": ["src"]
}
EOF
cat > tsconfig.bundler.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler", "lib": ["ES2022", "DOM"],
    "strict": true, "exactOptionalPropertyTypes": true, "skipLibCheck": false, "noEmit": true
  },
  "include": ["src"]
}
EOF
say "typecheck (moduleResolution nodenext) and build"
"$tsc" -p tsconfig.json
say "typecheck (moduleResolution bundler)"
"$tsc" -p tsconfig.bundler.json

expect() { # expect <pattern> <command…>
  local pattern=$1; shift
  local out
  out=$("$@" 2>&1) || true
  echo "$out"
  echo "$out" | grep -qE "$pattern" || { echo "expected output matching: $pattern" >&2; exit 1; }
}

say "run on the embedded SQLite default"
expect '"name":"Ada","listed":1,"missing":true' node out/main.js "sqlite:$work/app.sqlite"
say "the testing kit (effect-dataflow/testing) on an in-memory SQLite"
expect '"inserted":20,"left":0,"runs":3' node out/testkit.js
say "PostgreSQL and MySQL without their drivers"
expect 'DriverNotInstalled: PostgreSQL needs the packages pg and @effect/sql-pg: npm install pg @effect/sql-pg' node out/main.js "$pg_url"
expect 'DriverNotInstalled: MySQL needs the package mysql2: npm install mysql2' node out/main.js "$mysql_url"

say "npm install pg @effect/sql-pg mysql2"
sql_pg=$(node -p "require('$root/node_modules/@effect/sql-pg/package.json').version")
pg_version=$(node -p "require('$root/node_modules/pg/package.json').version")
mysql2_version=$(node -p "require('$root/node_modules/mysql2/package.json').version")
npm install --no-audit --no-fund --prefer-offline "pg@$pg_version" "@effect/sql-pg@$sql_pg" "mysql2@$mysql2_version" >/dev/null
"$tsc" -p tsconfig.json

say "run on PostgreSQL"
psql "$pg_url" -qc "CREATE SCHEMA $suffix" >/dev/null
sep='?'; case "$pg_url" in *\?*) sep='&';; esac
expect '"name":"Ada","listed":1,"missing":true' node out/main.js "${pg_url}${sep}options=-c%20search_path%3D$suffix"
say "run on MySQL/MariaDB"
mariadb -h 127.0.0.1 -u root -e "CREATE DATABASE $suffix"
expect '"name":"Ada","listed":1,"missing":true' node out/main.js "${mysql_url%/*}/$suffix"
say "the package works for a user"
