/**
 * The headless Chromium of the browser tests: the one that the devDependency `@sparticuz/chromium`
 * ships inside its npm tarball, so `npm ci` brings it with nothing from the system and nothing
 * downloaded. The package keeps it brotli-compressed in its bin/ folder: `chromium.br` (a
 * chrome-headless-shell build for Linux x86_64), `al2023.tar.br` (the NSS, NSPR and expat libraries
 * it links against, which a machine with only Node may lack), `swiftshader.tar.br` (software GL, looked
 * for beside the binary) and `fonts.tar.br` (Open Sans). The first launch unpacks them once into
 * node_modules/.cache/; the browser then finds those libraries through LD_LIBRARY_PATH and only those
 * fonts through FONTCONFIG_FILE, so it needs no Debian package and no system font.
 *
 * The package's own `executablePath()` is not used: it unpacks into the shared temp folder under
 * names without a version, takes a half-written binary left by an interrupted run as done, and
 * unpacks the libraries only on AWS Lambda.
 *
 * The package has no `os` or `cpu` field, so npm installs it everywhere, but its browser runs on
 * Linux x86_64 only. Elsewhere `QUO_SYNC_TEST_CHROMIUM` names a Chrome or Chromium of one's own
 * (it also takes precedence on Linux x86_64); without it the browser tests fail saying so.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { brotliDecompress, createBrotliDecompress } from "node:zlib";
import { chromium, type Browser } from "playwright-core";

const PACKAGE = "@sparticuz/chromium";

/** The variable that names a Chrome or Chromium executable of one's own. */
export const CHROMIUM_ENV = "QUO_SYNC_TEST_CHROMIUM";

/** The network is closed: nothing in the background may try to reach it. */
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
];

/** The package's folder and version. */
function chromiumPackage(): { dir: string; version: string } {
  // The package exports only its entry point (build/cjs/index.cjs); its folder is two levels up.
  const dir = path.resolve(path.dirname(createRequire(import.meta.url).resolve(PACKAGE)), "..", "..");
  const { version } = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string };
  return { dir, version };
}

/** Writes the regular files and folders of a tar archive (the package's are GNU tar) under `into`. */
function untar(tar: Buffer, into: string): void {
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return;
    const field = (from: number, length: number) => header.toString("latin1", from, from + length).replace(/\0[^]*$/, "");
    const posix = header.toString("latin1", 257, 263) === "ustar\0";
    const name = posix && field(345, 155) ? `${field(345, 155)}/${field(0, 100)}` : field(0, 100);
    const size = Number.parseInt(field(124, 12).trim() || "0", 8);
    const mode = Number.parseInt(field(100, 8).trim() || "644", 8) & 0o777;
    const type = field(156, 1) || "0";
    const target = path.resolve(into, name);
    if (target !== into && !target.startsWith(into + path.sep)) throw new Error(`tar entry ${name} is outside the folder`);
    at += 512;
    if (type === "5") {
      mkdirSync(target, { recursive: true });
    } else if (type === "0") {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, tar.subarray(at, at + size), { mode });
    } else {
      throw new Error(`tar entry ${name} has type '${type}', which this unpacker does not handle`);
    }
    at += Math.ceil(size / 512) * 512;
  }
}

/**
 * The folder with the unpacked browser (`chromium`, SwiftShader beside it, `lib/`, `fonts/`,
 * `fonts.conf`), made on first use. It is unpacked into a folder of its own and renamed into place
 * at the end, so the folder exists only when complete, also when two processes unpack at once.
 */
async function unpacked(pkg: { dir: string; version: string }): Promise<string> {
  const dest = path.resolve(pkg.dir, "..", "..", ".cache", `sparticuz-chromium-${pkg.version}`);
  if (existsSync(path.join(dest, "chromium"))) return dest;
  const bin = path.join(pkg.dir, "bin");
  const work = `${dest}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  mkdirSync(work, { recursive: true });
  try {
    const done = await Promise.allSettled([
      pipeline(createReadStream(path.join(bin, "chromium.br")), createBrotliDecompress(), createWriteStream(path.join(work, "chromium"), { mode: 0o755 })),
      ...["al2023.tar.br", "swiftshader.tar.br", "fonts.tar.br"].map(async (file) => {
        untar(await promisify(brotliDecompress)(readFileSync(path.join(bin, file))), work);
      }),
    ]);
    for (const d of done) if (d.status === "rejected") throw d.reason;
    // The packaged fonts.conf names Lambda's folders: this one names only the fonts unpacked here.
    writeFileSync(
      path.join(work, "fonts.conf"),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${path.join(dest, "fonts")}</dir>\n  <cachedir>${path.join(dest, "fontconfig-cache")}</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(work, dest);
    } catch (err) {
      // Another process put its copy in place first: use that one.
      if (!existsSync(path.join(dest, "chromium"))) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dest;
}

/**
 * The browser the tests start: the executable `QUO_SYNC_TEST_CHROMIUM` names, or else the one of
 * `@sparticuz/chromium` (null: unpack and use it). Throws an Error whose message is one line saying
 * what to install, on a platform that package does not run on or when the named file is missing.
 */
export function chooseChromium(platform: NodeJS.Platform = process.platform, arch: string = process.arch, env: NodeJS.ProcessEnv = process.env): string | null {
  const own = env[CHROMIUM_ENV];
  if (own) {
    if (!existsSync(own)) throw new Error(`${CHROMIUM_ENV} is ${own}, which does not exist: set it to the executable of a Chrome or Chromium`);
    return own;
  }
  if (platform !== "linux" || arch !== "x64") {
    throw new Error(
      `the browser tests need a Chromium, and the one of ${PACKAGE} runs on Linux x86_64 only (this is ${platform} ${arch}): install Google Chrome or Chromium and set ${CHROMIUM_ENV} to its executable (e.g. "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")`,
    );
  }
  return null;
}

/**
 * Starts the headless Chromium `chooseChromium` picks, or throws an error that says why it could
 * not: tests that need a browser fail then, they never skip.
 */
export async function launchChromium(): Promise<Browser> {
  const own = chooseChromium();
  if (own) {
    try {
      return await chromium.launch({ executablePath: own, args: LAUNCH_ARGS, timeout: 30_000 });
    } catch (err) {
      throw new Error(`the browser ${own} (${CHROMIUM_ENV}) did not start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let pkg: { dir: string; version: string };
  try {
    pkg = chromiumPackage();
  } catch (err) {
    throw new Error(`${PACKAGE} is not installed (it is a devDependency: run 'npm ci'): ${String(err)}`);
  }
  let dir: string;
  try {
    dir = await unpacked(pkg);
  } catch (err) {
    throw new Error(`could not unpack the Chromium of ${PACKAGE} ${pkg.version} from ${path.join(pkg.dir, "bin")}: ${String(err)}`);
  }
  const executablePath = path.join(dir, "chromium");
  const libs = path.join(dir, "lib");
  try {
    return await chromium.launch({
      executablePath,
      args: LAUNCH_ARGS,
      timeout: 30_000,
      env: {
        ...process.env,
        LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ? `${libs}:${process.env.LD_LIBRARY_PATH}` : libs,
        FONTCONFIG_FILE: path.join(dir, "fonts.conf"),
      },
    });
  } catch (err) {
    throw new Error(
      `the headless Chromium of ${PACKAGE} ${pkg.version} (${executablePath}) did not start; 'rm -rf ${dir}' makes the next run unpack it again: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
