import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/state/schema-pg.ts",
  out: "./migrations/pg",
});
