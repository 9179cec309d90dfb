/** `quo-sync daemon`: placeholder until the scheduler lands. */
import { EXIT, type GlobalOptions } from "./common.js";

export interface DaemonOptions extends GlobalOptions {
  http?: string;
}

export async function daemonCommand(_opts: DaemonOptions): Promise<number> {
  process.stderr.write("quo-sync: the daemon is not available in this build\n");
  return EXIT.error;
}
