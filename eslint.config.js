// ESLint here checks what tsc cannot: type-aware correctness rules of typescript-eslint, mainly
// promises nobody waits for (the state store is async, and a missing `await` type-checks fine).
// No stylistic rules and no formatting. Every TypeScript file is read through tsconfig.test.json,
// which covers src/, connectors/, test/, bench/, scripts/ and the config files.
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["dist/", "coverage/", "tmp/", "demo-output/"] },
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: "./tsconfig.test.json", tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      // A promise must be awaited, returned, handled, or dropped on purpose with `void`. Thenables
      // count too: a drizzle query builder that nobody awaits never runs.
      "@typescript-eslint/no-floating-promises": ["error", { checkThenables: true }],
      // No async function where a void callback is expected (its rejection would go nowhere), and
      // no promise where a condition or a spread expects a value.
      "@typescript-eslint/no-misused-promises": "error",
      // `await` only on something that can be awaited.
      "@typescript-eslint/await-thenable": "error",
      // Inside try/catch/finally, `return await`: a promise returned without it settles after the
      // handler has been left, so its rejection skips the catch and the finally runs too early.
      "@typescript-eslint/return-await": ["error", "error-handling-correctness-only"],
      // Throw Error objects, not strings or plain values.
      "@typescript-eslint/only-throw-error": "error",
      // `for…in` over an array walks its keys as strings; `delete` on an array leaves a hole.
      "@typescript-eslint/no-for-in-array": "error",
      "@typescript-eslint/no-array-delete": "error",
    },
  },
);
