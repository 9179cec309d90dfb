#!/usr/bin/env node
/**
 * The quo-sync command line (commander). Commands live in `src/commands/`; this file only wires
 * options to them and sets the exit status. A command line commander cannot parse (an unknown
 * command or option, a missing or invalid value) is one line on stderr and exit 64 (`EXIT.usage`).
 */
import { Command, CommanderError, Option } from "commander";
import { checkCommand } from "./commands/check.js";
import { EXIT, parseCount, parseHttp, parseSeconds } from "./commands/common.js";
import { daemonCommand } from "./commands/daemon.js";
import { fieldsCommand } from "./commands/fields.js";
import { initCommand, parseSourceArgument } from "./commands/init.js";
import { statusCommand } from "./commands/status.js";
import { syncCommand } from "./commands/sync.js";
import { QUO_DEFAULT_BASE_URL } from "./quo/auth.js";
import { VERSION } from "./version.js";

/** What `quo-sync --help` ends with: the environment (README, "Environment") and the exit statuses (README, "Exit status"). */
const HELP_AFTER = `
Environment (a .env file in the working directory is read too; real variables win):
  QUO_API_KEY                     a Quo API key, sent raw (without "Bearer ")
  MATON_API_KEY                   or a Maton key, through the Maton gateway (QUO_API_KEY wins when both are set)
  QUO_BASE_URL                    origin of the Quo API (default ${QUO_DEFAULT_BASE_URL})
  a workspace's apiKeyEnv         the key of a workspace under "workspaces" in the config, e.g. WEST_QUO_API_KEY
  QUO_SYNC_DATABASE_URL           a postgres:// URL: the state in PostgreSQL, instead of the config's "state"
  an alert channel's urlEnv       the URL of a webhook or Slack alert channel (smtpUrlEnv: the SMTP URL), e.g. SLACK_WEBHOOK_URL
  QUO_SYNC_CONSOLE_TOKEN          turns on the daemon's web console (at / of --http) and signs in to it
  QUO_SYNC_CONSOLE_URL            the console's address, linked from alerts (https://quo-sync.internal)
  a webhook's secretEnv           the secret of webhooks.hubspot / webhooks.quo, e.g. HUBSPOT_CLIENT_SECRET, QUO_WEBHOOK_SECRET
  QUO_SYNC_PUBLIC_URL             the daemon's public base URL behind a proxy (HubSpot's webhook signature covers it)
  GOOGLE_APPLICATION_CREDENTIALS  service-account key file for Google Sheets sources (or source.credentials)
  GOOGLE_SHEETS_API_URL           origin of the Sheets API (proxies, emulators)
  GOOGLE_OAUTH_TOKEN_URL          accepted but unused: the service account signs its own token
  HUBSPOT_ACCESS_TOKEN            HubSpot private-app token
  HUBSPOT_API_URL                 origin of the HubSpot API (proxies, emulators)
  LOG_LEVEL                       trace, debug, info (default), warn, error

Exit status:
  0         the run completed (rejected rows and refused writes are in the report)
  1         the run could not complete; one line on stderr says why
  2         plan --detailed-exitcode: changes are pending
  3         a safety guard refused the run; nothing was written
  64        usage error: unknown command or option, missing or invalid value
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM
`;

/** The name a person types for `cmd`, e.g. `quo-sync sync`. */
function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/**
 * Usage errors of `cmd` throw (`exitOverride`) instead of exiting, and print as one line: commander's
 * message, its "Did you mean" joined to it, and where the usage is.
 */
function usage(cmd: Command): Command {
  return cmd.exitOverride().configureOutput({
    outputError: (text, write) => {
      const reason = text.trim().replace(/^error: /, "").replace(/\s*\n\s*/g, " ").replace(/\.$/, "");
      write(`quo-sync: ${reason}; see ${fullName(cmd)} --help\n`);
    },
  });
}

function common(cmd: Command): Command {
  return usage(cmd)
    .option("--config <file>", "config file", "./quo-sync.config.json")
    .addOption(new Option("--format <format>", "report format").choices(["table", "json", "markdown", "html"]).default("table"))
    .option("--out <file>", "write the report to this file instead of stdout")
    .option("--sync <name>", "only this sync");
}

/** The options of the commands whose output is a table or JSON (`fields`, `check`, `status`). */
function listing(cmd: Command): Command {
  return usage(cmd)
    .option("--config <file>", "config file", "./quo-sync.config.json")
    .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"))
    .option("--out <file>", "write to this file instead of stdout")
    .option("--sync <name>", "only this sync");
}

const program = usage(new Command())
  .name("quo-sync")
  .description("Keep a Quo workspace's contacts in step with a CSV file, a Google Sheet or HubSpot.")
  .version(VERSION)
  .addHelpText("after", HELP_AFTER);

let exitCode = 0;

common(program.command("sync").description("read each source, plan, and apply the changes to Quo"))
  .option("--dry-run", "only report what would change; write nothing anywhere")
  .option("--allow-deletes", "lift the maxDeletePercent guard for this run")
  .addOption(new Option("--wait <seconds>", "if the sync is already running elsewhere, wait up to this long for it").argParser(parseSeconds))
  .option("--verify", "read this sync's contacts back from Quo and show (and, per onDrift, fix) edits made in the Quo app")
  .option("--accept-field-changes", "accept Quo custom fields that changed type or were replaced since the last run")
  .option("--full", "a source read incrementally reads every record this run (a full refresh, which finds deletes)")
  .option("--explain", "with --dry-run: list every source row, what the plan does with it and why, and the value each field gets")
  .action(async (opts, cmd: Command) => {
    // What a row would become is a plan's question: a real run writes, it does not explain.
    if (opts.explain && !opts.dryRun) cmd.error("--explain needs --dry-run (or use quo-sync plan --explain)", { exitCode: EXIT.usage, code: "quo-sync.explainWithoutDryRun" });
    exitCode = await syncCommand(opts);
  });

common(program.command("plan").description("the same as sync --dry-run: report what would change, write nothing"))
  .option("--allow-deletes", "show the plan as if the maxDeletePercent guard were lifted")
  .option("--detailed-exitcode", "exit 0 when nothing would change, 2 when changes are pending, 1 on error")
  .option("--verify", "read this sync's contacts back from Quo and show where they drifted from what was last sent")
  .option("--explain", "list every source row, what the plan does with it and why (filtered, skipped, rejected…), and the value each field gets")
  .action(async (opts) => {
    exitCode = await syncCommand({ ...opts, dryRun: true });
  });

usage(program.command("daemon"))
  .description("run each sync on its cron schedule until SIGTERM/SIGINT")
  .option("--config <file>", "config file", "./quo-sync.config.json")
  .addOption(new Option("--http <host:port>", "serve /healthz and Prometheus /metrics here").argParser(parseHttp))
  .option("--run-now", "run every scheduled sync once at start, then on its schedule")
  .addOption(new Option("--shutdown-timeout <seconds>", "after SIGTERM/SIGINT, wait up to this long for the writes in flight (default 30)").argParser(parseSeconds))
  .action(async (opts) => {
    exitCode = await daemonCommand({ format: "json", ...opts });
  });

listing(program.command("fields").description("the workspace's Quo custom fields, how the config maps them, and unmapped source columns"))
  .action(async (opts) => {
    exitCode = await fieldsCommand(opts);
  });

listing(program.command("check").description("check that each source can be read and that Quo accepts the credentials; writes nothing"))
  .option("--alert-test", "also send a test alert on each configured alert channel and report whether it arrived")
  .action(async (opts) => {
    exitCode = await checkCommand(opts);
  });

listing(program.command("status").description("recent runs per sync from the state database"))
  .addOption(new Option("--runs <n>", "runs listed per sync (default 10)").argParser(parseCount))
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

try {
  await program.parseAsync(process.argv);
  process.exitCode = exitCode;
} catch (e) {
  if (!(e instanceof CommanderError)) throw e;
  // --help and --version end this way too, with commander's exit code 0.
  process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
