#!/usr/bin/env node
/**
 * The quo-sync command line (commander). Commands live in `src/commands/`; this file only wires
 * options to them and sets the exit status.
 */
import { Command, Option } from "commander";
import { checkCommand } from "./commands/check.js";
import { daemonCommand } from "./commands/daemon.js";
import { fieldsCommand } from "./commands/fields.js";
import { initCommand, parseSourceArgument } from "./commands/init.js";
import { statusCommand } from "./commands/status.js";
import { syncCommand } from "./commands/sync.js";
import { VERSION } from "./version.js";

function common(cmd: Command): Command {
  return cmd
    .option("--config <file>", "config file", "./quo-sync.config.json")
    .addOption(new Option("--format <format>", "report format").choices(["table", "json", "markdown", "html"]).default("table"))
    .option("--out <file>", "write the report to this file instead of stdout")
    .option("--sync <name>", "only this sync");
}

/** The options of the commands whose output is a table or JSON (`fields`, `check`, `status`). */
function listing(cmd: Command): Command {
  return cmd
    .option("--config <file>", "config file", "./quo-sync.config.json")
    .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"))
    .option("--out <file>", "write to this file instead of stdout")
    .option("--sync <name>", "only this sync");
}

const program = new Command()
  .name("quo-sync")
  .description("Keep a Quo workspace's contacts in step with a CSV file, a Google Sheet or HubSpot.")
  .version(VERSION)
  .showHelpAfterError();

let exitCode = 0;

common(program.command("sync").description("read each source, plan, and apply the changes to Quo"))
  .option("--dry-run", "only report what would change; write nothing anywhere")
  .option("--allow-deletes", "lift the maxDeletePercent guard for this run")
  .option("--wait <seconds>", "if the sync is already running elsewhere, wait up to this long for it")
  .option("--verify", "read this sync's contacts back from Quo and show (and, per onDrift, fix) edits made in the Quo app")
  .option("--accept-field-changes", "accept Quo custom fields that changed type or were replaced since the last run")
  .action(async (opts) => {
    exitCode = await syncCommand(opts);
  });

common(program.command("plan").description("the same as sync --dry-run: report what would change, write nothing"))
  .option("--allow-deletes", "show the plan as if the maxDeletePercent guard were lifted")
  .option("--detailed-exitcode", "exit 0 when nothing would change, 2 when changes are pending, 1 on error")
  .option("--verify", "read this sync's contacts back from Quo and show where they drifted from what was last sent")
  .action(async (opts) => {
    exitCode = await syncCommand({ ...opts, dryRun: true });
  });

program
  .command("daemon")
  .description("run each sync on its cron schedule until SIGTERM/SIGINT")
  .option("--config <file>", "config file", "./quo-sync.config.json")
  .option("--http <host:port>", "serve /healthz and Prometheus /metrics here")
  .option("--shutdown-timeout <seconds>", "after SIGTERM/SIGINT, wait up to this long for the writes in flight (default 30)")
  .action(async (opts) => {
    exitCode = await daemonCommand({ format: "json", ...opts });
  });

listing(program.command("fields").description("the workspace's Quo custom fields, how the config maps them, and unmapped source columns"))
  .action(async (opts) => {
    exitCode = await fieldsCommand(opts);
  });

listing(program.command("check").description("check that each source can be read and that Quo accepts the credentials; writes nothing"))
  .action(async (opts) => {
    exitCode = await checkCommand(opts);
  });

listing(program.command("status").description("recent runs per sync from the state database"))
  .option("--runs <n>", "runs listed per sync (default 10)")
  .action(async (opts) => {
    exitCode = await statusCommand(opts);
  });

program
  .command("init")
  .description("read a source's columns and write a config with a proposed mapping, asking about each choice on a terminal")
  .option("--source <source>", "csv:PATH, google-sheets:SPREADSHEET_ID[!RANGE] or hubspot", parseSourceArgument)
  .option("--out <file>", "the config file to write", "./quo-sync.config.json")
  .option("--yes", "take the proposed mapping without asking")
  .option("--force", "overwrite the file if it exists")
  .action(async (opts) => {
    exitCode = await initCommand(opts);
  });

await program.parseAsync(process.argv);
process.exitCode = exitCode;
