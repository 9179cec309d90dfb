/**
 * `npm run build && node dist/bench/render.js`: how long each report format takes to render a
 * 100,000-change plan, and how big the output is. Issue 7 asks for "seconds"; timings are printed
 * here rather than asserted in tests, where machine load would make them flaky.
 */
import { FORMATS, render } from "../src/report/render.js";
import { largeReport } from "../test/fixtures/reports/sample-reports.js";

/** The plan size issue 7 names. */
const CHANGES = 100_000;

const report = largeReport(CHANGES);
console.log(`rendering a ${CHANGES.toLocaleString("en-US")}-change report (+${report.rejected.length} rejected rows)`);
for (const format of FORMATS) {
  const start = performance.now();
  const text = render(format, [report]);
  const ms = performance.now() - start;
  console.log(`${format.padEnd(9)} ${ms.toFixed(0).padStart(6)} ms  ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1).padStart(6)} MB`);
}
