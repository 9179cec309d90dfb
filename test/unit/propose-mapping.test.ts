/**
 * The mapping `init` proposes, for headers as real exports write them (HubSpot, Salesforce reports
 * and Data Loader, Pipedrive, Google Contacts old and new, Outlook, Zoho, Close, German, French and
 * Spanish exports), ambiguous ones, sampled rows and Quo custom fields.
 */
import { describe, expect, it } from "vitest";
import { headerForms, headerWords } from "../../src/init/header-words.js";
import { hubspotColumns, labelColumns, proposeMapping, suggestLabel, type MappingProposal, type SourceColumn } from "../../src/init/propose-mapping.js";
import type { CustomFieldDefinition } from "../../src/plan/resolve-custom-fields.js";

const columns = (headers: readonly string[]): SourceColumn[] => headers.map((name) => ({ name }));

/** The proposal in a shape a table can state: labels → columns, custom fields → columns. */
function shape(p: MappingProposal): Record<string, unknown> {
  return {
    key: p.key,
    name: p.name,
    company: p.company,
    role: p.role,
    phones: Object.fromEntries(p.phoneNumbers.map((x) => [x.label, x.column])),
    emails: Object.fromEntries(p.emails.map((x) => [x.label, x.column])),
  };
}

describe("headerWords", () => {
  it.each([
    ["E-mail 2 Address", ["email", "2", "address"]],
    ["E-Mail-Adresse", ["email", "adresse"]],
    ["MobilePhone", ["mobile", "phone"]],
    ["hs_object_id", ["hs", "object", "id"]],
    ["Person - Phone - Work", ["person", "phone", "work"]],
    ["Téléphone", ["telephone"]],
    ["Phone2", ["phone", "2"]],
    ["IDNumber", ["id", "number"]],
    ["Assistant's Phone", ["assistant", "s", "phone"]],
  ])("%s → %j", (header, words) => {
    expect(headerWords(header)).toEqual(words);
  });

  it("drops filler and the record prefix, keeps the number", () => {
    expect(headerForms("Phone 2 - Value")).toEqual({ literal: ["phone", "value"], stripped: ["phone"], prefixed: false, number: 2 });
    expect(headerForms("Lead ID")).toEqual({ literal: ["lead", "id"], stripped: ["id"], prefixed: true });
    expect(headerForms("Contact")).toEqual({ literal: ["contact"], stripped: ["contact"], prefixed: false });
  });
});

describe("proposeMapping: real exports", () => {
  it.each<[string, string[], Record<string, unknown>]>([
    [
      "HubSpot contacts export",
      ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Contact owner", "Primary Associated Company ID", "Marketing contact status", "Create Date", "Lead Status", "Company Name", "Job Title", "Mobile Phone Number", "Lifecycle Stage"],
      {
        key: "Record ID",
        name: { form: "parts", first: "First Name", last: "Last Name" },
        company: "Company Name",
        role: "Job Title",
        phones: { work: "Phone Number", mobile: "Mobile Phone Number" },
        emails: { work: "Email" },
      },
    ],
    [
      "Salesforce contacts report",
      ["Contact ID", "Salutation", "First Name", "Last Name", "Title", "Account Name", "Mailing Street", "Mailing City", "Phone", "Mobile", "Fax", "Email", "Contact Owner", "Account ID", "Lead Source", "Email Opt Out", "Created Date"],
      {
        key: "Contact ID",
        name: { form: "parts", first: "First Name", last: "Last Name" },
        company: "Account Name",
        role: "Title",
        phones: { work: "Phone", mobile: "Mobile" },
        emails: { work: "Email" },
      },
    ],
    [
      "Salesforce Data Loader export",
      [
        ...["Id", "IsDeleted", "MasterRecordId", "AccountId", "LastName", "FirstName", "Salutation", "Name", "MailingStreet", "Phone", "Fax", "MobilePhone", "HomePhone", "OtherPhone"],
        ...["AssistantPhone", "ReportsToId", "Email", "Title", "Department", "AssistantName", "LeadSource", "OwnerId", "HasOptedOutOfEmail", "DoNotCall", "CreatedById", "EmailBouncedReason", "IsEmailBounced"],
      ],
      {
        key: "Id",
        name: { form: "parts", first: "FirstName", last: "LastName" },
        company: undefined,
        role: "Title",
        phones: { work: "Phone", mobile: "MobilePhone", home: "HomePhone", other: "OtherPhone" },
        emails: { work: "Email" },
      },
    ],
    [
      "Pipedrive people export",
      ["Person - ID", "Person - Name", "Person - First name", "Person - Last name", "Person - Organization", "Person - Phone - Work", "Person - Phone - Mobile", "Person - Email - Work", "Person - Email - Home", "Person - Owner", "Person - Label", "Person - Job title"],
      {
        key: "Person - ID",
        name: { form: "parts", first: "Person - First name", last: "Person - Last name" },
        company: "Person - Organization",
        role: "Person - Job title",
        phones: { work: "Person - Phone - Work", mobile: "Person - Phone - Mobile" },
        emails: { work: "Person - Email - Work", home: "Person - Email - Home" },
      },
    ],
    [
      "Pipedrive list view",
      ["ID", "Name", "Organization", "Phone", "Email", "Owner", "Open deals"],
      { key: "ID", name: { form: "full", column: "Name" }, company: "Organization", role: undefined, phones: { mobile: "Phone" }, emails: { work: "Email" } },
    ],
    [
      "Zoho CRM contacts export",
      [
        ...["Record Id", "Contact Owner", "Lead Source", "First Name", "Last Name", "Account Name", "Vendor Name", "Email", "Title", "Department", "Phone", "Home Phone"],
        ...["Other Phone", "Fax", "Mobile", "Date of Birth", "Assistant", "Asst Phone", "Reports To", "Email Opt Out", "Skype ID", "Created By", "Full Name", "Secondary Email"],
      ],
      {
        key: "Record Id",
        name: { form: "parts", first: "First Name", last: "Last Name" },
        company: "Account Name",
        role: "Title",
        phones: { work: "Phone", home: "Home Phone", other: "Other Phone", mobile: "Mobile" },
        emails: { work: "Email", other: "Secondary Email" },
      },
    ],
    [
      "Close contacts export",
      ["lead_id", "lead_name", "contact_id", "contact_name", "contact_title", "contact_primary_phone", "contact_primary_email", "status"],
      {
        key: "contact_id",
        name: { form: "full", column: "contact_name" },
        company: undefined,
        role: "contact_title",
        phones: { mobile: "contact_primary_phone" },
        emails: { work: "contact_primary_email" },
      },
    ],
    [
      "Google Contacts export",
      [
        ...["First Name", "Middle Name", "Last Name", "Phonetic First Name", "Phonetic Last Name", "Name Prefix", "Name Suffix", "Nickname", "File As"],
        ...["Organization Name", "Organization Title", "Organization Department", "Birthday", "Notes", "Labels", "E-mail 1 - Label", "E-mail 1 - Value"],
        ...["E-mail 2 - Label", "E-mail 2 - Value", "Phone 1 - Label", "Phone 1 - Value", "Phone 2 - Label", "Phone 2 - Value", "Address 1 - Label", "Address 1 - Formatted"],
      ],
      {
        key: "E-mail 1 - Value",
        name: { form: "parts", first: "First Name", last: "Last Name" },
        company: "Organization Name",
        role: "Organization Title",
        phones: { mobile: "Phone 1 - Value", other: "Phone 2 - Value" },
        emails: { work: "E-mail 1 - Value", other: "E-mail 2 - Value" },
      },
    ],
    [
      "Google Contacts export, old format",
      ["Name", "Given Name", "Additional Name", "Family Name", "Yomi Name", "E-mail 1 - Type", "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value", "Organization 1 - Name", "Organization 1 - Title"],
      {
        key: "E-mail 1 - Value",
        name: { form: "parts", first: "Given Name", last: "Family Name" },
        company: "Organization 1 - Name",
        role: "Organization 1 - Title",
        phones: { mobile: "Phone 1 - Value" },
        emails: { work: "E-mail 1 - Value" },
      },
    ],
    [
      "Outlook export",
      [
        ...["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department", "Job Title", "Business Street", "Assistant's Phone", "Business Fax"],
        ...["Business Phone", "Business Phone 2", "Callback", "Car Phone", "Company Main Phone", "Home Fax", "Home Phone", "Home Phone 2", "ISDN", "Mobile Phone", "Other Fax"],
        ...["Other Phone", "Pager", "Primary Phone", "E-mail Address", "E-mail Type", "E-mail Display Name", "E-mail 2 Address", "E-mail 2 Type", "E-mail 3 Address"],
      ],
      {
        key: "E-mail Address",
        name: { form: "parts", first: "First Name", last: "Last Name" },
        company: "Company",
        role: "Job Title",
        phones: {
          work: "Business Phone",
          "work 2": "Business Phone 2",
          other: "Car Phone",
          "work 3": "Company Main Phone",
          home: "Home Phone",
          "home 2": "Home Phone 2",
          mobile: "Mobile Phone",
          "other 2": "Other Phone",
          "other 3": "Primary Phone",
        },
        emails: { work: "E-mail Address", other: "E-mail 2 Address", "other 2": "E-mail 3 Address" },
      },
    ],
    [
      "German Outlook export",
      ["Anrede", "Vorname", "Nachname", "Firma", "Position", "Telefon geschäftlich", "Mobiltelefon", "Telefon privat", "Fax geschäftlich", "E-Mail-Adresse", "Kundennummer"],
      {
        key: "Kundennummer",
        name: { form: "parts", first: "Vorname", last: "Nachname" },
        company: "Firma",
        role: "Position",
        phones: { work: "Telefon geschäftlich", mobile: "Mobiltelefon", home: "Telefon privat" },
        emails: { work: "E-Mail-Adresse" },
      },
    ],
    [
      "French export",
      ["Identifiant", "Prénom", "Nom", "Société", "Fonction", "Téléphone", "Portable", "Courriel"],
      {
        key: "Identifiant",
        name: { form: "parts", first: "Prénom", last: "Nom" },
        company: "Société",
        role: "Fonction",
        phones: { work: "Téléphone", mobile: "Portable" },
        emails: { work: "Courriel" },
      },
    ],
    [
      "Spanish export",
      ["ID", "Nombre", "Apellidos", "Empresa", "Cargo", "Teléfono", "Móvil", "Correo electrónico"],
      {
        key: "ID",
        name: { form: "parts", first: "Nombre", last: "Apellidos" },
        company: "Empresa",
        role: "Cargo",
        phones: { work: "Teléfono", mobile: "Móvil" },
        emails: { work: "Correo electrónico" },
      },
    ],
    [
      "the project's example",
      ["id", "First Name", "Last Name", "Company", "Title", "Phone", "Work Phone", "Email"],
      { key: "id", name: { form: "parts", first: "First Name", last: "Last Name" }, company: "Company", role: "Title", phones: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
    ],
  ])("%s", (_what, headers, expected) => {
    expect(shape(proposeMapping(columns(headers)))).toEqual(expected);
  });
});

describe("proposeMapping: ambiguous and sparse headers", () => {
  it.each<[string, string[], Record<string, unknown>]>([
    ["one full-name column", ["ID", "Full Name", "Phone"], { key: "ID", name: { form: "full", column: "Full Name" } }],
    ["'Contact' as the name", ["Contact", "Cell", "E-mail"], { name: { form: "full", column: "Contact" }, phones: { mobile: "Cell" }, emails: { work: "E-mail" } }],
    ["'Name' beside 'Surname' is the first name", ["Ref ID", "Name", "Surname"], { key: "Ref ID", name: { form: "parts", first: "Name", last: "Surname" } }],
    ["the contact's id before a lead's", ["Lead ID", "Contact ID", "Account ID", "First Name"], { key: "Contact ID" }],
    ["a plain id before a customer id", ["Customer ID", "id", "First Name"], { key: "id" }],
    ["another record's id is not a key", ["Account ID", "Owner ID", "First Name", "Email"], { key: "Email" }],
    ["an id the vocabulary does not name", ["Subscriber ID", "First Name"], { key: "Subscriber ID" }],
    ["'Job Title' wins over 'Title'", ["id", "Title", "First Name", "Job Title"], { role: "Job Title" }],
    ["numbered plain phones", ["id", "First Name", "Phone", "Phone 2", "Phone 3"], { phones: { mobile: "Phone", other: "Phone 2", "other 2": "Phone 3" } }],
    ["a plain e-mail beside work and personal ones", ["id", "First Name", "Email", "Work Email", "Personal Email"], { emails: { other: "Email", work: "Work Email", home: "Personal Email" } }],
    ["a plain e-mail beside a work one", ["id", "First Name", "Email", "Work Email"], { emails: { home: "Email", work: "Work Email" } }],
    [
      "columns about numbers and addresses are not numbers or addresses",
      ["id", "First Name", "Phone Type", "Do Not Call", "SMS Opt In", "Phone Extension", "Email Opt Out", "Email Bounced", "Email Domain", "Last Email Sent Date", "Owner Email", "Owner Phone"],
      { phones: {}, emails: {} },
    ],
    ["a company column with 'Phone' in it is a phone", ["id", "First Name", "Company", "Company Phone"], { company: "Company", phones: { work: "Company Phone" } }],
    ["no name column: the company stands in", ["Account Number", "Company", "Phone"], { name: { form: "parts", first: "Company" }, company: "Company" }],
  ])("%s", (_what, headers, expected) => {
    expect(shape(proposeMapping(columns(headers)))).toMatchObject(expected);
  });

  it("a source without an id column gets the e-mail as key, and a note saying what that costs", () => {
    const p = proposeMapping(columns(["Name", "Phone", "Email"]));
    expect(p.key).toBe("Email");
    expect(p.notes.join("\n")).toMatch(/No id column found: the key is 'Email'.*changes, the sync sees a new contact/);
  });

  it("without an id or an e-mail column the key is the first phone, then the first column", () => {
    expect(proposeMapping(columns(["Name", "Mobile"])).key).toBe("Mobile");
    expect(proposeMapping(columns(["Name", "City"])).key).toBe("Name");
  });

  it("no name column at all: the first column left stands in, with a note", () => {
    const p = proposeMapping(columns(["id", "City", "Phone"]));
    expect(p.name).toEqual({ form: "parts", first: "City" });
    expect(p.notes.join("\n")).toContain("No first-name column found: firstName is 'City'");
  });

  it("a source without columns proposes nothing", () => {
    expect(proposeMapping([])).toEqual({ name: { form: "parts" }, phoneNumbers: [], emails: [], customFields: [], notes: [] });
  });
});

describe("proposeMapping: sampled rows", () => {
  const headers = columns(["id", "uuid", "First Name"]);
  it("prefers an id column whose values are unique", () => {
    const samples = [
      { id: "1", uuid: "a" },
      { id: "1", uuid: "b" },
    ];
    expect(proposeMapping(headers, { samples }).key).toBe("uuid");
  });

  it("keeps the only id column with repeated or blank values, and says so", () => {
    const p = proposeMapping(columns(["id", "First Name"]), { samples: [{ id: "1" }, { id: "" }, { id: "3" }] });
    expect(p.key).toBe("id");
    expect(p.notes).toEqual([expect.stringContaining("The key 'id' has blank or repeated values in the first 3 rows")]);
  });

  it("says nothing about a key whose values are unique", () => {
    expect(proposeMapping(headers, { samples: [{ id: "1", uuid: "a" }, { id: "2", uuid: "b" }] }).notes).toEqual([]);
  });
});

describe("proposeMapping: Quo custom fields", () => {
  const DEFS: CustomFieldDefinition[] = [
    { name: "Lead Source", key: "lead-source", type: "string" },
    { name: "VIP", key: "vip", type: "boolean" },
    { name: "Renewal Date", key: "renewal-date", type: "date" },
    { name: "Seats", key: "seats", type: "number" },
  ];

  it("maps a column whose header is a field's name (any case), then one that differs only in spacing and punctuation", () => {
    const p = proposeMapping(columns(["id", "First Name", "Lead Source", "vip", "renewal_date", "Notes"]), { customFields: DEFS });
    expect(p.customFields.map((c) => [c.configName, c.column])).toEqual([
      ["Lead Source", "Lead Source"],
      ["VIP", "vip"],
      ["Renewal Date", "renewal_date"],
      ["Seats", undefined],
    ]);
  });

  it("a field's exact name wins over the standard fields' guesses", () => {
    const p = proposeMapping(columns(["id", "First Name", "Account"]), { customFields: [{ name: "Account", key: "account", type: "string" }] });
    expect(p.company).toBeUndefined();
    expect(p.customFields[0]?.column).toBe("Account");
  });

  it("names a field by its key when another has the same name", () => {
    const p = proposeMapping(columns(["id", "First Name", "Tier"]), {
      customFields: [
        { name: "Tier", key: "tier", type: "string" },
        { name: "tier", key: "tier-2", type: "string" },
      ],
    });
    expect(p.customFields.map((c) => [c.configName, c.column])).toEqual([
      ["tier", "Tier"],
      ["tier-2", undefined],
    ]);
  });

  it("matches a HubSpot property by its label", () => {
    const p = proposeMapping([{ name: "hs_object_id", label: "Record ID" }, { name: "firstname", label: "First Name" }, { name: "lead_source_detail", label: "Lead Source" }], { customFields: DEFS });
    expect(p.customFields[0]).toMatchObject({ configName: "Lead Source", column: "lead_source_detail" });
  });
});

describe("HubSpot properties", () => {
  const PROPERTIES = [
    ...[["hs_object_id", "Record ID"], ["createdate", "Create Date"], ["firstname", "First Name"], ["lastname", "Last Name"], ["email", "Email"], ["work_email", "Work email"]],
    ...[["phone", "Phone Number"], ["mobilephone", "Mobile Phone Number"], ["fax", "Fax Number"], ["company", "Company Name"], ["jobtitle", "Job Title"], ["hubspot_owner_id", "Contact owner"]],
    ...[["associatedcompanyid", "Primary Associated Company ID"], ["hs_calculated_phone_number", "Calculated Phone Number"], ["hs_searchable_calculated_mobile_number", "Calculated Mobile Number without country code"]],
    ...[["hs_lead_status", "Lead Status"], ["owneremail", "HubSpot Owner Email (legacy)"], ["hs_whatsapp_phone_number", "WhatsApp Phone Number"]],
  ].map(([name, label]) => ({ name: name as string, label: label as string }));

  it("leaves HubSpot's own calculated properties out, keeping the record id and the lead status", () => {
    const names = hubspotColumns(PROPERTIES).map((c) => c.name);
    expect(names).toContain("hs_object_id");
    expect(names).toContain("hs_lead_status");
    expect(names.filter((n) => n.startsWith("hs_"))).toEqual(["hs_object_id", "hs_lead_status"]);
  });

  it("proposes docs/hubspot.md's mapping; `email` is 'home' beside HubSpot's `work_email`", () => {
    expect(shape(proposeMapping(hubspotColumns(PROPERTIES)))).toEqual({
      key: "hs_object_id",
      name: { form: "parts", first: "firstname", last: "lastname" },
      company: "company",
      role: "jobtitle",
      phones: { work: "phone", mobile: "mobilephone" },
      emails: { home: "email", work: "work_email" },
    });
  });
});

describe("labels", () => {
  it("a plain column takes the first primary label no other column claims", () => {
    expect(labelColumns([{ column: "Phone" }, { column: "Cell", label: "mobile" }], ["mobile", "work"])).toEqual([
      { label: "work", column: "Phone" },
      { label: "mobile", column: "Cell" },
    ]);
  });

  it.each<["phone" | "email", string, string[], string]>([
    ["phone", "Cell", [], "mobile"],
    ["phone", "Business Phone", ["work"], "work 2"],
    ["phone", "Notes", [], "other"],
    ["phone", "Notes", ["other", "other 2"], "other 3"],
    ["email", "Personal Email", [], "home"],
  ])("a %s column %s added by hand (labels taken: %j) → %s", (kind, column, taken, label) => {
    expect(suggestLabel(kind, { name: column }, taken)).toBe(label);
  });
});
