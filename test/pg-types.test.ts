/**
 * The fast `timestamptz` parser of the library's PostgreSQL pools (src/internal/client/pgTypes.ts)
 * gives the Date node-postgres's own parser gives, for the text PostgreSQL itself writes: random
 * instants (microseconds included) in session time zones with whole-hour, half-hour, 45-minute
 * and (historical) seconds offsets, and the texts it leaves to node-postgres (years before
 * 1000, BC, infinity).
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import Pg from "pg"
import { inject } from "vitest"
import { parseTimestamptz, types } from "../src/internal/client/pgTypes.js"
import { pgUrl } from "./support/servers.js"

const available = inject("pgAvailable")
const general = Pg.types.getTypeParser(1184, "text") as (text: string) => Date | number | string
const zones = ["UTC", "Asia/Kolkata", "America/St_Johns", "Asia/Kathmandu", "Europe/Amsterdam", "Pacific/Chatham", "America/Los_Angeles"]

/** The texts PostgreSQL writes for these instants (microseconds since the epoch) in a time zone. */
const texts = async (zone: string, micros: ReadonlyArray<bigint>): Promise<ReadonlyArray<string>> => {
  const client = new Pg.Client({ connectionString: pgUrl })
  await client.connect()
  try {
    await client.query(`SET TIME ZONE '${zone}'`)
    const { rows } = await client.query<{ t: string }>(
      "SELECT (to_timestamp(0) + make_interval(secs => (v / 1000000)::float8) + make_interval(secs => (v % 1000000)::float8 / 1000000))::text AS t FROM unnest($1::bigint[]) WITH ORDINALITY AS u(v, i) ORDER BY i",
      [micros.map(String)]
    )
    return rows.map((r) => r.t)
  } finally {
    await client.end()
  }
}

describe("pgTypes: timestamptz", () => {
  it("recognises only PostgreSQL's ISO output, leaves the rest to node-postgres", () => {
    expect(parseTimestamptz("2024-01-02 03:04:05.678+00")?.toISOString()).toBe("2024-01-02T03:04:05.678Z")
    expect(parseTimestamptz("2024-01-02 03:04:05+05:30")?.toISOString()).toBe("2024-01-01T21:34:05.000Z")
    expect(parseTimestamptz("2024-01-02 03:04:05.9999-08")?.toISOString()).toBe("2024-01-02T11:04:05.999Z")
    expect(parseTimestamptz("1900-01-01 00:00:00+00:19:32")?.toISOString()).toBe("1899-12-31T23:40:28.000Z")
    for (const text of ["infinity", "-infinity", "0999-01-01 00:00:00+00", "2024-01-01 00:00:00+00 BC", "2024-02-30 00:00:00+00", "2024-01-02T03:04:05Z", "2024-01-02 03:04:05"]) {
      expect(parseTimestamptz(text), text).toBeUndefined()
    }
    // the pool's parser still reads what the fast one leaves
    const parse = types.getTypeParser(1184, "text") as (text: string) => unknown
    expect(parse("infinity")).toEqual(general("infinity"))
    expect(parse("0999-01-01 00:00:00+00")).toEqual(general("0999-01-01 00:00:00+00"))
  })

  it.runIf(available)("agrees with node-postgres's parser on what PostgreSQL writes, in several time zones", async () => {
    // 1000-01-01 .. 9999-12-31, any microsecond
    const micros = fc.sample(fc.bigInt({ min: -30610224000000000n, max: 253402300799999999n }), { numRuns: 400, seed: 17 })
    micros.push(0n, 1n, 999n, 1000n, 86399999999n, -1n)
    const parse = types.getTypeParser(1184, "text") as (text: string) => Date
    let fastPath = 0
    let all = 0
    for (const zone of zones) {
      for (const text of await texts(zone, micros)) {
        all++
        const fast = parseTimestamptz(text)
        if (fast !== undefined) fastPath++
        // left to node-postgres: a year outside 1000..9999 in the zone's local time
        else expect(/^[1-9]\d{3}-/.test(text) && !text.endsWith("BC"), `${zone}: ${text}`).toBe(false)
        expect(parse(text).getTime(), `${zone}: ${text}`).toBe((general(text) as Date).getTime())
      }
    }
    expect(fastPath / all).toBeGreaterThan(0.95)
  })
})
