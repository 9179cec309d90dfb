/**
 * `npm run demo`: starts the project's Quo emulator on 127.0.0.1, syncs examples/contacts.csv into
 * it with the built CLI, prints the report, then runs again to show that nothing changes.
 * Everything happens in a temporary folder; nothing leaves this machine.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startQuoEmulator } from "../test/emulators/quo-emulator.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = path.join(root, "dist", "src", "cli.js");
const key = "demo-key";

const emulator = await startQuoEmulator({ apiKeys: [key], latencyMs: 20 });
const dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-demo-"));
try {
  const config = JSON.parse(readFileSync(path.join(root, "examples", "quo-sync.config.json"), "utf8"));
  delete config.$schema;
  config.state = path.join(dir, "quo-sync.db");
  config.syncs[0].source.path = path.join(root, "examples", "contacts.csv");
  const configFile = path.join(dir, "quo-sync.config.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  /** The emulator runs in this process, so the CLI must run asynchronously beside it. */
  const cliRun = (args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

  const run = async (title: string): Promise<number> => {
    process.stdout.write(`\n=== ${title} ===\n$ quo-sync sync --config ${configFile}\n\n`);
    const before = emulator.stats().writesApplied;
    const r = await cliRun(["sync", "--config", configFile], { ...process.env, QUO_API_KEY: key, QUO_BASE_URL: emulator.url, LOG_LEVEL: "warn" });
    process.stdout.write(r.stdout);
    if (r.stderr.trim()) process.stdout.write(`(stderr)\n${r.stderr}`);
    const after = emulator.stats().writesApplied;
    const writes = after.create - before.create + (after.update - before.update) + (after.delete - before.delete);
    process.stdout.write(`exit status ${r.status}; writes Quo received: ${writes}\n`);
    if (r.status !== 0) throw new Error(`quo-sync exited with ${r.status}`);
    return writes;
  };

  const first = await run("first sync: creates the contacts, rejects the rows Quo could not take");
  const second = await run("second sync: nothing changed in the CSV, so nothing is sent");
  process.stdout.write(`\nQuo emulator now holds ${emulator.contacts().length} contacts (${first} writes on the first run, ${second} on the second).\n`);
  if (second !== 0) {
    process.stderr.write("demo failed: the second run wrote to Quo\n");
    process.exitCode = 1;
  }
} finally {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
}
