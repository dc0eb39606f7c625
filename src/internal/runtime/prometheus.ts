/**
 * Effect metrics as Prometheus text (exposition format 0.0.4): a pure function over
 * `Metric.snapshot`'s pairs, so it is tested without a server.
 * (Internal module: not part of the public API; `Metrics.prometheus` exports it.)
 */
import type * as MetricPair from "effect/MetricPair"
import * as MetricKeyType from "effect/MetricKeyType"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
/** Metric and label names as Prometheus accepts them. */
const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([0-9])/, "_$1")

const labelText = (labels: ReadonlyArray<readonly [string, string]>) =>
  labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${sanitize(k)}="${escapeLabel(v)}"`).join(",")}}`

const num = (n: number | bigint) =>
  typeof n === "bigint" ? n.toString() : Number.isNaN(n) ? "NaN" : n === Infinity ? "+Inf" : n === -Infinity ? "-Inf" : String(n)

interface Family {
  readonly type: "counter" | "gauge" | "histogram" | "summary"
  readonly help: string
  readonly lines: Array<string>
}

/** The text of a set of metrics, one family per metric name, families sorted by name. @internal */
export const toPrometheus = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, Family>()
  const familyOf = (name: string, type: Family["type"], help: Option.Option<string>) => {
    let family = families.get(name)
    if (family === undefined) families.set(name, family = { type, help: Option.getOrElse(help, () => name), lines: [] })
    return family
  }
  for (const pair of pairs) {
    const key = pair.metricKey
    const name = sanitize(key.name)
    const labels: ReadonlyArray<readonly [string, string]> = key.tags.map((t) => [t.key, t.value] as const)
    const state = pair.metricState
    if (MetricState.isCounterState(state)) {
      const incremental = MetricKeyType.isCounterKey(key.keyType) && key.keyType.incremental
      familyOf(name, incremental ? "counter" : "gauge", key.description).lines.push(`${name}${labelText(labels)} ${num(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      familyOf(name, "gauge", key.description).lines.push(`${name}${labelText(labels)} ${num(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      const family = familyOf(name, "histogram", key.description)
      let infinite = false
      for (const [bound, count] of state.buckets) {
        if (bound === Infinity) infinite = true
        family.lines.push(`${name}_bucket${labelText([...labels, ["le", num(bound)]])} ${num(count)}`)
      }
      if (!infinite) family.lines.push(`${name}_bucket${labelText([...labels, ["le", "+Inf"]])} ${num(state.count)}`)
      family.lines.push(`${name}_sum${labelText(labels)} ${num(state.sum)}`)
      family.lines.push(`${name}_count${labelText(labels)} ${num(state.count)}`)
    } else if (MetricState.isSummaryState(state)) {
      const family = familyOf(name, "summary", key.description)
      for (const [quantile, value] of state.quantiles) {
        const v = Option.getOrUndefined(value)
        if (v !== undefined) family.lines.push(`${name}${labelText([...labels, ["quantile", num(quantile)]])} ${num(v)}`)
      }
      family.lines.push(`${name}_sum${labelText(labels)} ${num(state.sum)}`)
      family.lines.push(`${name}_count${labelText(labels)} ${num(state.count)}`)
    } else if (MetricState.isFrequencyState(state)) {
      // a frequency is a counter per observed word
      const family = familyOf(name, "counter", key.description)
      for (const [word, count] of state.occurrences) {
        family.lines.push(`${name}${labelText([...labels, ["key", word]])} ${num(count)}`)
      }
    }
  }
  const out: Array<string> = []
  for (const name of [...families.keys()].sort()) {
    const family = families.get(name)!
    out.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`, ...family.lines)
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`
}
