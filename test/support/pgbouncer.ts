/**
 * PgBouncer (Debian's `pgbouncer`) in transaction mode in front of the test PostgreSQL, started
 * by the test that needs it on a free loopback port, with few server connections so that client
 * connections really share them. `.ci/run` installs the package; outside CI a machine without it
 * leaves the suite out with a message.
 */
import { spawn, spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pgUrl } from "./servers.js"

export const binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((p) => existsSync(p))

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

export interface Bouncer {
  /** A URL to the test database through the pooler (user and database of TEST_PG_URL). */
  readonly url: string
  readonly stop: () => void
}

/** Starts PgBouncer (transaction mode, `poolSize` server connections per database and user). */
export const start = async (poolSize = 3): Promise<Bouncer> => {
  if (binary === undefined) throw new Error("pgbouncer is not installed (apt-get install pgbouncer)")
  const target = new URL(pgUrl)
  const user = decodeURIComponent(target.username || "postgres")
  const dir = mkdtempSync(join(tmpdir(), "df-pgbouncer-"))
  chmodSync(dir, 0o777)
  const port = await freePort()
  const ini = join(dir, "pgbouncer.ini")
  writeFileSync(join(dir, "users.txt"), `"${user}" ""\n`)
  writeFileSync(
    ini,
    [
      "[databases]",
      `* = host=${target.hostname} port=${target.port || "5432"}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "auth_type = trust",
      `auth_file = ${join(dir, "users.txt")}`,
      "pool_mode = transaction",
      `default_pool_size = ${poolSize}`,
      "max_client_conn = 500",
      "unix_socket_dir =",
      `logfile = ${join(dir, "pgbouncer.log")}`,
      `pidfile = ${join(dir, "pgbouncer.pid")}`
    ].join("\n") + "\n"
  )
  for (const f of ["users.txt", "pgbouncer.ini"]) chmodSync(join(dir, f), 0o644)
  // PgBouncer refuses to run as root: it switches to the postgres user then
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0
  const child = spawn(binary, [...(asRoot ? ["-u", "postgres"] : []), ini], { stdio: "ignore" })
  const log = () => (existsSync(join(dir, "pgbouncer.log")) ? readFileSync(join(dir, "pgbouncer.log"), "utf8") : "")
  for (let i = 0; i < 100; i++) {
    if (log().includes("process up")) break
    if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}): ${log()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  if (!log().includes("process up")) throw new Error(`pgbouncer did not start: ${log()}`)
  const url = new URL(pgUrl)
  url.port = String(port)
  url.search = ""
  return {
    url: url.toString(),
    stop: () => {
      child.kill("SIGTERM")
      spawnSync("sleep", ["0.1"])
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
