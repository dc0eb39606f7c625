/** @internal */
export const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/

/** @internal */
export const assertIdentifier = (what: string, value: string): string => {
  if (!identifierPattern.test(value)) {
    throw new TypeError(`effect-dataflow: ${what} ${JSON.stringify(value)} is not a valid SQL identifier`)
  }
  return value
}

/**
 * `createdAt` -> `created_at`, `XMLParser` -> `xml_parser`, `OrderStatus` -> `order_status`.
 * @internal
 */
export const snakeCase = (name: string): string =>
  name
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()

const uncountable = new Set([
  "data",
  "series",
  "species",
  "information",
  "equipment",
  "news",
  "metadata",
  "feedback",
  "sheep",
  "fish",
  "deer",
  "rice",
  "money",
  "media",
  "software",
  "hardware",
  "staff"
])

const irregular: Record<string, string> = {
  person: "people",
  man: "men",
  woman: "women",
  child: "children",
  tooth: "teeth",
  foot: "feet",
  mouse: "mice",
  goose: "geese",
  ox: "oxen",
  datum: "data",
  index: "indices",
  matrix: "matrices",
  vertex: "vertices",
  analysis: "analyses",
  crisis: "crises",
  thesis: "theses",
  criterion: "criteria",
  phenomenon: "phenomena",
  hero: "heroes",
  potato: "potatoes",
  tomato: "tomatoes",
  echo: "echoes",
  quiz: "quizzes",
  leaf: "leaves",
  life: "lives",
  knife: "knives",
  wife: "wives",
  half: "halves",
  wolf: "wolves",
  shelf: "shelves"
}

/** @internal */
export const pluralize = (word: string): string => {
  const lower = word.toLowerCase()
  if (uncountable.has(lower)) return word
  const irr = irregular[lower]
  if (irr !== undefined) return irr
  if (/[^aeiou]y$/.test(lower)) return word.slice(0, -1) + "ies"
  if (/(s|x|z|ch|sh)$/.test(lower)) return word + "es"
  return word + "s"
}

/**
 * `User` -> `users`, `OrderStatus` -> `order_statuses`: snake_case, last word pluralised.
 * @internal
 */
export const tableName = (modelName: string): string => {
  const snake = snakeCase(modelName)
  const parts = snake.split("_")
  parts[parts.length - 1] = pluralize(parts[parts.length - 1]!)
  return parts.join("_")
}
