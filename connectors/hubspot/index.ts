/** HubSpot source: placeholder until the connector lands. */
import type { HubspotSourceConfig } from "../../src/config.js";
import { SourceError } from "../../src/errors.js";
import type { SourceConnector } from "../types.js";

export const hubspotConnector: SourceConnector<HubspotSourceConfig> = {
  type: "hubspot",
  async check() {
    return { ok: false, message: "the hubspot source is not available in this build" };
  },
  // eslint-disable-next-line require-yield
  async *read() {
    throw new SourceError("the hubspot source is not available in this build");
  },
};
