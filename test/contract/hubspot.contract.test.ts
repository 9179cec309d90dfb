/**
 * The HubSpot connector against the shared contract. Each table goes into a fresh HubSpot emulator:
 * its header row becomes the account's contact properties (the emulator, unlike HubSpot, accepts any
 * name, so the suite's "First Name" or "名前" can be property names), each record one contact
 * created in order, and the mapping reads exactly the header (`ctx.wanted`), the key `id` first.
 *
 * One opt-in difference from a spreadsheet: `row` is the contact's ordinal in the listing, so the
 * first record is row 1, not 2 (src/model.ts, `SourceRow.row`).
 */
import { createHubspotConnector } from "../../connectors/hubspot/index.js";
import { startHubspotEmulator } from "../emulators/hubspot-emulator.js";
import { describeConnectorContract, type MakeSource } from "./connector-contract.js";

const TOKEN = "pat-na1-contract-token";

const hubspotSource: MakeSource = async (table) => {
  const [header = [], ...records] = table;
  const emulator = await startHubspotEmulator({ tokens: [TOKEN], properties: [] });
  emulator.setProperties(header);
  emulator.addContacts(records.map((cells) => Object.fromEntries(cells.map((cell, c) => [header[c] as string, cell]))));
  return {
    connector: createHubspotConnector(),
    config: { type: "hubspot", properties: [], archived: "drop", requestsPer10Seconds: 100 },
    ctx: { baseDir: process.cwd(), env: { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_URL: emulator.url }, wanted: header },
    cleanup: () => emulator.close(),
  };
};

describeConnectorContract("hubspot", hubspotSource, { firstRow: 1 });
