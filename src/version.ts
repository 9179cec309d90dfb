/** quo-sync's version, sent in `User-Agent`; kept equal to package.json's `version` (a unit test checks). */
export const VERSION = "0.1.0";
