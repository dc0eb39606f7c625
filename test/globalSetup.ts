/**
 * Runs once per `npm test`: picks this run's id (every schema/database a test creates is
 * named after it, so concurrent runs never meet), checks which servers answer, and drops
 * what the run created at the end. Under CI=true a server that does not answer fails the run.
 */
import { randomBytes } from "node:crypto"
import type { TestProject } from "vitest/node"
import { dropRunObjects, probe } from "./support/servers.js"

declare module "vitest" {
  export interface ProvidedContext {
    runId: string
    pgAvailable: boolean
    mysqlAvailable: boolean
  }
}

export default async function setup(project: TestProject) {
  const runId = `r${Date.now().toString(36)}${randomBytes(3).toString("hex")}`
  const pg = await probe("pg")
  const mysql = await probe("mysql")
  const ci = process.env.CI === "true"
  for (const [name, result] of [["PostgreSQL", pg], ["MariaDB/MySQL", mysql]] as const) {
    if (result !== true) {
      const msg = `${name} is not reachable (${result}); its suites ${ci ? "cannot run" : "are skipped"}`
      if (ci) throw new Error(`CI=true: ${msg}`)
      console.warn(`\n[effect-dataflow tests] ${msg}\n`)
    }
  }
  project.provide("runId", runId)
  project.provide("pgAvailable", pg === true)
  project.provide("mysqlAvailable", mysql === true)
  return async () => {
    await dropRunObjects(runId, { pg: pg === true, mysql: mysql === true })
  }
}
