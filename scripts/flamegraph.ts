/**
 * A V8 CPU profile (`node --cpu-prof`) as an SVG flame graph: each frame as wide as the time
 * spent in it and below it, callers under their callees' row (root at the bottom), coloured by
 * where the code lives — this library, `effect`, `@effect/sql`, the driver, Node itself — so
 * a picture says whose code a hot path runs. Self-contained: no dependency, any browser (and
 * GitHub) shows the SVG; hovering a frame shows its name, file and share.
 *
 *   npx tsx scripts/flamegraph.ts PROFILE.cpuprofile OUT.svg [--title TEXT] [--focus FUNCTION] [--min 0.002]
 *
 * `--focus` keeps only the stacks through the first frame of that function name (the hot path
 * of a benchmark loop, say), `--min` drops frames narrower than that share of the total.
 */
import { readFileSync, writeFileSync } from "node:fs"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly hitCount?: number
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
}

/** A merged frame: children with the same function and file are one frame. */
interface Frame {
  readonly name: string
  readonly url: string
  self: number
  total: number
  readonly children: Map<string, Frame>
}

const args = process.argv.slice(2)
const option = (name: string) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
const [input, output] = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1]!.startsWith("--")))
if (input === undefined || output === undefined) {
  process.stderr.write("usage: flamegraph.ts PROFILE.cpuprofile OUT.svg [--title TEXT] [--focus FUNCTION] [--min SHARE]\n")
  process.exit(2)
}
const title = option("--title") ?? input
const focus = option("--focus")
const minShare = Number(option("--min") ?? 0.002)

const profile = JSON.parse(readFileSync(input, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const childIds = new Set(profile.nodes.flatMap((n) => n.children ?? []))
const rootNode = profile.nodes.find((n) => !childIds.has(n.id))!

const shortUrl = (url: string) => url.replace(/^file:\/\//, "").replace(/^.*node_modules\//, "").replace(/^.*\/(src|dist|bench|scripts)\//, "$1/")

const frameOf = (name: string, url: string): Frame => ({ name, url, self: 0, total: 0, children: new Map() })

/** Builds the merged tree under `into` from a profile node (recursively, iteratively). */
const build = (start: ProfileNode, into: Frame) => {
  const stack: Array<[ProfileNode, Frame]> = [[start, into]]
  while (stack.length > 0) {
    const [node, frame] = stack.pop()!
    frame.self += node.hitCount ?? 0
    for (const id of node.children ?? []) {
      const child = byId.get(id)!
      const name = child.callFrame.functionName ||
        (child.callFrame.url === "" ? "(anonymous)" : `${shortUrl(child.callFrame.url).replace(/^.*\//, "")}:${child.callFrame.lineNumber + 1}`)
      const key = `${name}\u0000${child.callFrame.url}`
      let next = frame.children.get(key)
      if (next === undefined) {
        next = frameOf(name, child.callFrame.url)
        frame.children.set(key, next)
      }
      stack.push([child, next])
    }
  }
}

const totals = (frame: Frame): number => {
  let sum = frame.self
  for (const c of frame.children.values()) sum += totals(c)
  frame.total = sum
  return sum
}

const root = frameOf("all", "")
build(rootNode, root)
// idle time is not the program's: leave it out
for (const [key, c] of root.children) if (c.name === "(idle)") root.children.delete(key)
totals(root)

/** The first frame (breadth first) of the focused function, if asked. */
const focused = (() => {
  if (focus === undefined) return root
  const queue: Array<Frame> = [root]
  while (queue.length > 0) {
    const f = queue.shift()!
    if (f.name === focus) return f
    queue.push(...[...f.children.values()].sort((a, b) => b.total - a.total))
  }
  process.stderr.write(`no frame named ${focus}\n`)
  process.exit(2)
})()

const origin = (url: string): { readonly label: string; readonly color: (h: number) => string } => {
  const hue = (base: number, spread: number) => (h: number) => `hsl(${base + (h % spread)}, 70%, ${62 + (h % 9)}%)`
  if (url.includes("/effect-dataflow/") || (/\/(src|dist)\//.test(url) && !url.includes("node_modules"))) {
    return { label: "effect-dataflow", color: hue(200, 25) }
  }
  if (url.includes("node_modules/effect/")) return { label: "effect", color: hue(30, 20) }
  if (url.includes("node_modules/@effect/sql")) return { label: "@effect/sql", color: hue(280, 20) }
  if (/node_modules\/(pg|pg-protocol|pg-pool|better-sqlite3|mysql2)\//.test(url)) return { label: "driver", color: hue(120, 25) }
  if (url.startsWith("node:") || url === "") return { label: "node / native", color: hue(0, 1) }
  return { label: "other", color: hue(55, 10) }
}

const width = 1200
const rowHeight = 17
const total = focused.total
const rows: Array<string> = []
let depthMax = 0

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
const hash = (s: string) => {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0
  return Math.abs(h)
}

const place = (frame: Frame, x: number, depth: number) => {
  const w = (frame.total / total) * width
  if (frame.total / total < minShare) return
  depthMax = Math.max(depthMax, depth)
  const o = origin(frame.url)
  const share = ((frame.total / total) * 100).toFixed(1)
  const label = `${frame.name} ${shortUrl(frame.url)}`.trim()
  const text = w > 40 ? frame.name.slice(0, Math.floor((w - 6) / 6.5)) : ""
  rows.push(
    `<g><title>${escape(label)} — ${share}% (${o.label})</title>` +
      `<rect x="${x.toFixed(2)}" y="@${depth}" width="${Math.max(w - 0.5, 0.5).toFixed(2)}" height="${rowHeight - 1}" fill="${o.color(hash(frame.name))}" rx="1"/>` +
      (text === "" ? "" : `<text x="${(x + 3).toFixed(2)}" y="@${depth}t">${escape(text)}</text>`) +
      `</g>`
  )
  let cx = x
  for (const c of [...frame.children.values()].sort((a, b) => b.total - a.total)) {
    place(c, cx, depth + 1)
    cx += (c.total / total) * width
  }
}
place(focused, 0, 0)

// self time by origin, for the legend
const selfByOrigin = new Map<string, number>()
const walk = (f: Frame) => {
  const label = origin(f.url).label
  selfByOrigin.set(label, (selfByOrigin.get(label) ?? 0) + f.self)
  for (const c of f.children.values()) walk(c)
}
walk(focused)

const top = 46
const height = top + (depthMax + 1) * rowHeight + 10
const body = rows.join("\n").replace(/y="@(\d+)(t?)"/g, (_, d: string, t: string) => {
  const y = top + (depthMax - Number(d)) * rowHeight
  return `y="${t === "t" ? y + 12 : y}"`
})
const legend = [...selfByOrigin.entries()]
  .sort((a, b) => b[1] - a[1])
  .map(([label, n]) => `${label} ${((n / total) * 100).toFixed(0)}%`)
  .join(" · ")

writeFileSync(
  output,
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="4" y="16" font-size="14">${escape(title)}</text>
<text x="4" y="34" fill="#444">self time by origin: ${escape(legend)} (${total} samples; width = time in a frame and its callees)</text>
${body}
</svg>
`
)
process.stderr.write(`${output}: ${total} samples, ${rows.length} frames; ${legend}\n`)
