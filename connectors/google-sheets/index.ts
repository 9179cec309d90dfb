/** Google Sheets source: placeholder until the connector lands. */
import type { GoogleSheetsSourceConfig } from "../../src/config.js";
import { SourceError } from "../../src/errors.js";
import type { SourceConnector, WriteBackTarget } from "../types.js";

export const googleSheetsConnector: SourceConnector<GoogleSheetsSourceConfig> = {
  type: "google-sheets",
  async check() {
    return { ok: false, message: "the google-sheets source is not available in this build" };
  },
  // eslint-disable-next-line require-yield
  async *read() {
    throw new SourceError("the google-sheets source is not available in this build");
  },
};

export const googleSheetsWriteBack: WriteBackTarget<GoogleSheetsSourceConfig> = {
  async writeBack() {
    throw new SourceError("the google-sheets source is not available in this build");
  },
};
