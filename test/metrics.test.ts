/**
 * Node metrics (duration, failures by tag, rows written), their Prometheus text, the pool
 * gauges of the library's PostgreSQL client, and the production options of `DataFlow.layer`
 * (statement timeout, application name) and `DataFlow.ping`.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Metric, MetricLabel, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { DataFlow, Metrics, Model } from "../src/index.js"
import { mysql, pg, privateUrl } from "./support/db.js"

const Gauge = Model.make("Gauge", Schema.Struct({ id: Schema.Int, name: Schema.String }), { unique: ["name"], table: "metric_gauges" })

const value = (metric: typeof Metrics.nodeErrors, labels: Record<string, string>) =>
  Effect.runSync(Metric.value(Metric.taggedWithLabels(metric, Object.entries(labels).map(([k, v]) => MetricLabel.make(k, v)))))

describe("metrics", () => {
  it("node calls are timed, failures counted by tag, rows written counted; no values in labels", async () => {
    await Effect.gen(function*() {
      yield* Gauge.create({ name: "a" })
      yield* Gauge.bulkCreate([{ name: "b" }, { name: "c" }])
      yield* Effect.flip(Gauge.create({ name: "a" }))
      yield* Gauge.bulkDelete({ name: "c" })
    }).pipe(Effect.provide(DataFlow.layer({ url: "sqlite::memory:" })), Effect.runPromise)
    expect(value(Metrics.rowsWritten, { model: "Gauge", node: "create" }).count).toBeGreaterThanOrEqual(1)
    expect(value(Metrics.rowsWritten, { model: "Gauge", node: "bulkCreate" }).count).toBeGreaterThanOrEqual(2)
    expect(value(Metrics.rowsWritten, { model: "Gauge", node: "bulkDelete" }).count).toBeGreaterThanOrEqual(1)
    expect(value(Metrics.nodeErrors, { model: "Gauge", node: "create", error: "UniqueViolation" }).count).toBeGreaterThanOrEqual(1)
    const text = await Effect.runPromise(Metrics.prometheus)
    expect(text).toContain("# TYPE dataflow_node_duration_seconds histogram")
    expect(text).toMatch(/dataflow_node_duration_seconds_bucket\{model="Gauge",node="create",le="\+Inf"\} \d+/)
    expect(text).toContain("# TYPE dataflow_node_errors_total counter")
    expect(text).not.toMatch(/name="a"|"a"\}/)
  })

  it("switched off with DataFlow.nodeMetrics(false)", async () => {
    const before = value(Metrics.rowsWritten, { model: "Gauge", node: "upsert" }).count
    await Gauge.upsert({ where: { name: "z" }, create: {} }).pipe(
      Effect.provide(Layer.merge(DataFlow.layer({ url: "sqlite::memory:" }), DataFlow.nodeMetrics(false))),
      Effect.runPromise
    )
    expect(value(Metrics.rowsWritten, { model: "Gauge", node: "upsert" }).count).toBe(before)
  })

  it("Prometheus text: escaping, families, counters, gauges", () => {
    const counter = Metric.counter("test_total", { description: "a\nb", incremental: true })
    const gauge = Metric.gauge("test_gauge")
    Effect.runSync(Metric.update(Metric.tagged(counter, "path", 'x"y\\z'), 2))
    Effect.runSync(Metric.set(gauge, 1.5))
    const text = Effect.runSync(Metrics.prometheus)
    expect(text).toContain("# HELP test_total a\\nb\n# TYPE test_total counter\ntest_total{path=\"x\\\"y\\\\z\"} 2")
    expect(text).toContain("# TYPE test_gauge gauge\ntest_gauge 1.5")
  })

  if (pg.available) {
    it("pg: pool gauges, statementTimeout, applicationName, ping", async () => {
      const url = await Effect.runPromise(privateUrl("pg", "metrics_pg"))
      await Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* DataFlow.ping()
        const [row] = yield* sql<{ name: string }>`SELECT current_setting('application_name') AS name`
        expect(row!.name).toBe("metrics-test")
        const slow = yield* Effect.flip(sql`SELECT pg_sleep(2)`)
        expect(JSON.stringify((slow as { cause?: { code?: string } }).cause?.code)).toContain("57014")
        const text = yield* Metrics.prometheus
        expect(text).toMatch(/dataflow_pool_connections\{database="test",state="total"\} \d+/)
      }).pipe(
        Effect.provide(DataFlow.layer({ url, statementTimeout: "200 millis", applicationName: "metrics-test", pool: { max: 3, idleTimeout: "5 seconds", connectTimeout: "3 seconds" } })),
        Effect.runPromise
      )
    })
  }

  if (mysql.available) {
    it("mysql: statementTimeout bounds a statement", async () => {
      const url = await Effect.runPromise(privateUrl("mysql", "metrics_my"))
      await Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* DataFlow.ping()
        const start = Date.now()
        yield* Effect.either(sql`SELECT SLEEP(3)`)
        expect(Date.now() - start).toBeLessThan(2500)
      }).pipe(Effect.provide(DataFlow.layer({ url, statementTimeout: "300 millis", applicationName: "metrics-test" })), Effect.runPromise)
    })
  }
})
