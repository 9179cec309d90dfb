/**
 * Writes `quo-sync.schema.json` (the config's JSON Schema, for editors) from the zod schema in
 * src/config.ts. `npm run schema`; a test fails when the committed file is stale.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { configJsonSchema } from "../src/config.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const file = path.join(root, "quo-sync.schema.json");
writeFileSync(file, JSON.stringify({ ...configJsonSchema(), title: "quo-sync config" }, null, 2) + "\n");
process.stdout.write(`wrote ${file}\n`);
