/**
 * A loopback TCP proxy in front of a database server, for fault-injection tests: it forwards
 * bytes both ways and, on command, cuts connections (all of them, or the one whose
 * client→server bytes match a predicate), stalls and resumes forwarding, or refuses new
 * connections. A test acquires it as a scoped resource, so it is always closed.
 */
import type { Scope } from "effect"
import { Effect } from "effect"
import * as net from "node:net"

/** Decides from one chunk of client→server bytes (and its connection's number) whether to cut. */
export type CutPredicate = (chunk: Buffer, connection: number) => boolean

/** A one-shot cut (or stall) armed with `cutWhen` (`stallWhen`). */
export interface CutRule {
  /** Whether a chunk matched and the rule acted. */
  readonly fired: boolean
  /** Disarms the rule if it has not fired. */
  readonly cancel: () => void
}

export interface Proxy {
  /** The ephemeral port the proxy listens on (127.0.0.1). */
  readonly port: number
  /** `url` (a database URL of the proxied server) pointing at the proxy instead. */
  readonly urlFor: (url: string) => string
  /** Destroys every open connection, client and server side. */
  readonly cutAll: () => void
  /** Stops forwarding in both directions; new connections wait until `resume`. */
  readonly stall: () => void
  /** Forwards again, and opens the connections that arrived while stalled. */
  readonly resume: () => void
  /**
   * Cuts the connection on which the first chunk matching `predicate` passes (once): before
   * forwarding it (the server never sees it), or right after (the server gets it and sees its
   * client go away; its answer is never delivered).
   */
  readonly cutWhen: (predicate: CutPredicate, options: { readonly forward: boolean }) => CutRule
  /**
   * Stalls the proxy (as `stall`) when the first chunk matching `predicate` passes (once):
   * before forwarding it (it is delivered on `resume`), or right after.
   */
  readonly stallWhen: (predicate: CutPredicate, options: { readonly forward: boolean }) => CutRule
  /** While on, new connections are destroyed as soon as they are accepted. */
  readonly refuse: (on: boolean) => void
  /** Open connections. */
  readonly connections: () => number
  /** Connections accepted (and not refused) since the proxy started. */
  readonly accepted: () => number
  readonly close: () => Promise<void>
}

interface Link {
  readonly id: number
  readonly client: net.Socket
  server: net.Socket | undefined
  /** Client→server chunks not forwarded yet: sent before the server connection opened, or while stalled. */
  readonly up: Array<Buffer>
  /** Server→client chunks read while stalled. */
  readonly down: Array<Buffer>
  closed: boolean
}

interface Rule {
  readonly action: "cut" | "stall"
  readonly predicate: CutPredicate
  readonly forward: boolean
  fired: boolean
  cancelled: boolean
}

const ignore = () => {}

/** Starts a proxy in front of `target` (plain, unscoped: prefer {@link make}). */
export const start = (target: { readonly host: string; readonly port: number }): Promise<Proxy> =>
  new Promise((resolve, reject) => {
    const links = new Set<Link>()
    const rules: Array<Rule> = []
    let stalled = false
    let refusing = false
    let accepted = 0

    const drop = (link: Link) => {
      if (link.closed) return
      link.closed = true
      links.delete(link)
      link.client.destroy()
      link.server?.destroy()
    }

    /** The server got what it was sent; its client vanishes, its answer is read and dropped. */
    const dropAfterDelivery = (link: Link) => {
      link.closed = true
      links.delete(link)
      link.client.destroy()
      const server = link.server
      if (server === undefined) return
      server.removeAllListeners("data")
      server.on("data", ignore)
      server.resume()
      server.end()
      // a server that never closes its side must not keep the process alive
      setTimeout(() => server.destroy(), 5000).unref()
    }

    /** Writes with backpressure: a full destination pauses the source until it drains. */
    const relay = (from: net.Socket, to: net.Socket, chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause()
        to.once("drain", () => {
          if (!stalled) from.resume()
        })
      }
    }

    const up = (link: Link, chunk: Buffer) => {
      if (stalled || link.server === undefined) link.up.push(chunk)
      else relay(link.client, link.server, chunk)
    }

    const flush = (link: Link) => {
      const server = link.server
      if (server !== undefined) for (const chunk of link.up.splice(0)) server.write(chunk)
      for (const chunk of link.down.splice(0)) link.client.write(chunk)
    }

    const open = (link: Link) => {
      const server = net.connect({ host: target.host, port: target.port })
      link.server = server
      server.setNoDelay(true)
      server.on("error", ignore)
      server.on("close", () => drop(link))
      server.on("data", (chunk: Buffer) => {
        if (stalled) link.down.push(chunk)
        else relay(server, link.client, chunk)
      })
      flush(link)
      link.client.resume()
    }

    const stall = () => {
      stalled = true
      for (const link of links) {
        link.client.pause()
        link.server?.pause()
      }
    }

    const resume = () => {
      stalled = false
      for (const link of links) {
        if (link.server === undefined) open(link)
        else {
          flush(link)
          link.client.resume()
          link.server.resume()
        }
      }
    }

    const fromClient = (link: Link, chunk: Buffer) => {
      const rule = rules.find((r) => !r.fired && !r.cancelled && r.predicate(chunk, link.id))
      if (rule === undefined) return up(link, chunk)
      rule.fired = true
      if (rule.action === "stall") {
        if (rule.forward) up(link, chunk)
        stall()
        if (!rule.forward) link.up.push(chunk)
      } else if (rule.forward && link.server !== undefined && !stalled) {
        link.server.write(chunk, () => dropAfterDelivery(link))
      } else drop(link)
    }

    const arm = (action: Rule["action"]) => (predicate: CutPredicate, options: { readonly forward: boolean }): CutRule => {
      const rule: Rule = { action, predicate, forward: options.forward, fired: false, cancelled: false }
      rules.push(rule)
      return {
        get fired() {
          return rule.fired
        },
        cancel: () => {
          rule.cancelled = true
        }
      }
    }

    const listener = net.createServer((client) => {
      if (refusing) {
        client.on("error", ignore)
        client.destroy()
        return
      }
      accepted++
      const link: Link = { id: accepted, client, server: undefined, up: [], down: [], closed: false }
      links.add(link)
      client.setNoDelay(true)
      client.on("error", ignore)
      client.on("close", () => drop(link))
      client.on("data", (chunk: Buffer) => fromClient(link, chunk))
      // a connection that arrives while stalled waits for `resume` to reach the server
      if (stalled) client.pause()
      else open(link)
    })
    listener.on("error", reject)
    listener.listen(0, "127.0.0.1", () => {
      const address = listener.address()
      if (address === null || typeof address === "string") return reject(new Error("proxy: no TCP address"))
      const port = address.port
      resolve({
        port,
        urlFor: (url) => {
          const u = new URL(url)
          u.hostname = "127.0.0.1"
          u.port = String(port)
          return u.toString()
        },
        cutAll: () => {
          for (const link of [...links]) drop(link)
        },
        stall,
        resume,
        cutWhen: arm("cut"),
        stallWhen: arm("stall"),
        refuse: (on) => {
          refusing = on
        },
        connections: () => links.size,
        accepted: () => accepted,
        close: () =>
          new Promise<void>((done) => {
            for (const link of [...links]) drop(link)
            listener.close(() => done())
          })
      })
    })
  })

/** A proxy in front of `target` for the length of the scope. */
export const make = (target: { readonly host: string; readonly port: number }): Effect.Effect<Proxy, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => start(target)), (proxy) => Effect.promise(() => proxy.close()))

/** A proxy in front of the server of a database URL (`postgres://…`, `mysql://…`). */
export const inFrontOf = (url: string): Effect.Effect<Proxy, never, Scope.Scope> => {
  const u = new URL(url)
  return make({ host: u.hostname, port: Number(u.port) })
}

/** Matches a chunk that contains `text` (ASCII). */
export const containing = (text: string): CutPredicate => {
  const needle = Buffer.from(text, "utf8")
  return (chunk) => chunk.includes(needle)
}

/** Matches the chunk during which the client→server byte count passes `bytes`. */
export const afterBytes = (bytes: number): CutPredicate => {
  let seen = 0
  return (chunk) => {
    seen += chunk.length
    return seen > bytes
  }
}
