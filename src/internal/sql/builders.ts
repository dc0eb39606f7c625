/**
 * Every statement the nodes send, as pure functions of a model's statements and the shape of
 * the call: text and parameters, bound in text order (see `params.ts`). Texts that depend only
 * on a shape are made once and cached on the model's statements. Nothing here runs SQL;
 * `test/builders.test.ts` checks the text and parameter order of each, per dialect. One file per
 * family under `build/`; this module is their one entry (`import * as Build`).
 * (Internal module: not part of the public API.)
 */
export { type Key, keyList, keyOfRow } from "./build/common.js"
export * from "./build/delete.js"
export * from "./build/insert.js"
export * from "./build/read.js"
export * from "./build/update.js"
export * from "./build/upsert.js"
