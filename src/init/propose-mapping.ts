/**
 * The mapping `quo-sync init` proposes for a source: which column is the key, the name, the
 * company, the role, each phone and e-mail (under a label), and each Quo custom field. It reads
 * only header words (and a few rows, to tell a unique id column from a repeated one), so it works
 * the same for a CSV header, a Sheet's header row and HubSpot's property names and labels. Pure.
 *
 * The vocabulary follows what real exports write: HubSpot ("Record ID", "Mobile Phone Number"),
 * Salesforce (reports: "Contact ID", "Mobile"; Data Loader: "Id", "MobilePhone", "AccountId"),
 * Pipedrive ("Person - Phone - Work"), Google Contacts ("Phone 1 - Value", "E-mail 1 - Label"),
 * Outlook ("Business Phone 2", "E-mail 2 Address", "Title" for Mr/Ms beside "Job Title"), Zoho and
 * Close ("contact_primary_phone"), and a few common headers in German, French, Spanish,
 * Portuguese, Dutch and Italian.
 */
import type { CustomFieldDefinition } from "../plan/resolve-custom-fields.js";
import { headerForms, squash, type HeaderForms } from "./header-words.js";

/** A column as `init` sees it: a CSV or Sheet header cell, or a HubSpot contact property. */
export interface SourceColumn {
  /** What the config names: the header as written, or the HubSpot property's internal name. */
  name: string;
  /** HubSpot's label for the property ("Mobile Phone Number"); absent for a header. */
  label?: string;
}

/** A phone or e-mail column under a Quo label (`phoneNumbers.mobile ← "Cell"`). */
export interface LabelledColumn {
  label: string;
  column: string;
}

/** A Quo custom field of the workspace, and the column proposed for it (none when nothing matched). */
export interface CustomFieldChoice {
  /** What the config calls the field: its name, or its key when another field has the same name. */
  configName: string;
  field: CustomFieldDefinition;
  column?: string;
}

/**
 * How the contact's name is read: first and last name columns, or one column holding whole names
 * ("Name", "Full Name", "Contact"), split into first and last name (`renderNameFields`).
 */
export type NameProposal = { form: "parts"; first?: string; last?: string } | { form: "full"; column: string };

/** What `proposeMapping` proposes. Every column named is one of the source's columns. */
export interface MappingProposal {
  /** The key column; absent only for a source without columns. */
  key?: string;
  name: NameProposal;
  company?: string;
  role?: string;
  phoneNumbers: LabelledColumn[];
  emails: LabelledColumn[];
  /** One entry per workspace custom field, in the workspace's order. */
  customFields: CustomFieldChoice[];
  /** What a person should know about the proposal, one sentence each. */
  notes: string[];
}

/** What `proposeMapping` may use besides the columns. */
export interface ProposeOptions {
  /** The workspace's custom fields (`GET /v1/contact-custom-fields`); none when Quo was not asked. */
  customFields?: readonly CustomFieldDefinition[];
  /** The first rows of the source by column name, to prefer an id column whose values are unique. */
  samples?: readonly Readonly<Record<string, string>>[];
}

/** A property of HubSpot's contact property list (`GET /crm/v3/properties/contacts`). */
export interface HubspotPropertyInfo {
  name: string;
  label: string;
}

/**
 * HubSpot's own (`hs_`) properties that hold something a person may map: the record id, which is
 * the key, and a few that people keep in Quo custom fields. The others are calculated numbers,
 * analytics and counters, hundreds of them in a portal.
 */
const HUBSPOT_OWN_PROPERTIES_KEPT = new Set(["hs_object_id", "hs_lead_status", "hs_persona", "hs_language", "hs_buying_role"]);

/** HubSpot's contact properties as columns, its own `hs_` properties left out but for `HUBSPOT_OWN_PROPERTIES_KEPT`. Never throws. */
export function hubspotColumns(properties: readonly HubspotPropertyInfo[]): SourceColumn[] {
  return properties.filter((p) => HUBSPOT_OWN_PROPERTIES_KEPT.has(p.name) || !p.name.startsWith("hs_")).map((p) => ({ name: p.name, label: p.label }));
}

/** Phrases (any spelling that squashes to the same letters) and how sure each makes a guess, 0–100. */
type Vocabulary = ReadonlyMap<string, number>;

function vocabulary(entries: Record<string, number>): Vocabulary {
  return new Map(Object.entries(entries).map(([phrase, score]) => [squash(phrase.split(" ")), score]));
}

const KEY = vocabulary({
  id: 100,
  "contact id": 100,
  "hs object id": 100,
  "record id": 95,
  "person id": 95,
  "external id": 90,
  "unique id": 90,
  "customer id": 90,
  "client id": 90,
  "contact uuid": 90,
  "id contacto": 90,
  "lead id": 85,
  "member id": 85,
  uuid: 85,
  guid: 85,
  "crm id": 85,
  "salesforce id": 85,
  "hubspot id": 85,
  kundennummer: 85,
  identifiant: 85,
  "id cliente": 85,
  uid: 80,
  "object id": 80,
  "contact key": 80,
  "customer number": 80,
  "numero client": 80,
  "kunden nr": 80,
  "customer no": 75,
  "user id": 60,
});

/** The last word of an id column that the vocabulary does not name ("Subscriber ID"). */
const ID_WORDS = new Set(["id", "uuid", "guid"]);
/** Ids of something other than the contact: "Account ID", "OwnerId", "ReportsToId", "Email ID", "Tax ID". */
const NOT_THE_CONTACT = new Set([
  ...["account", "company", "organization", "organisation", "org", "owner", "deal", "campaign", "parent", "master"],
  ...["created", "modified", "updated", "by", "reports", "manager", "assistant", "pipeline", "stage", "team", "list"],
  ...["form", "ticket", "opportunity", "territory", "product", "order", "invoice", "transaction", "session", "page"],
  ...["event", "source", "type", "group", "region", "country", "state", "city", "currency", "language", "timezone"],
  ...["email", "mail", "phone", "tax", "vat", "national", "passport", "ssn", "license", "skype", "twitter", "linkedin"],
  ...["facebook", "google", "social", "chat", "slack", "zoom", "meeting", "calendar", "photo", "image", "avatar", "file"],
]);
/** What a guessed id column scores: below every id the vocabulary names. */
const ID_RULE_SCORE = 50;

const FIRST_NAME = vocabulary({
  "first name": 100,
  vorname: 100,
  prenom: 100,
  voornaam: 100,
  "given name": 95,
  "primer nombre": 95,
  "primeiro nome": 95,
  forename: 90,
  fname: 80,
  nombre: 80,
  nome: 80,
  first: 70,
});

const LAST_NAME = vocabulary({
  "last name": 100,
  nachname: 100,
  achternaam: 100,
  surname: 95,
  "family name": 95,
  familienname: 95,
  "nom de famille": 95,
  apellido: 90,
  apellidos: 90,
  sobrenome: 90,
  cognome: 90,
  lname: 80,
  last: 70,
  nom: 70,
});

/**
 * One column holding whole names. "Contact" alone is one in many small CRMs' exports; "Contact Name"
 * wins over "Lead Name", which is the company in Close's exports.
 */
const FULL_NAME = vocabulary({
  "full name": 100,
  "contact name": 90,
  "nombre completo": 100,
  "nom complet": 100,
  "vollstandiger name": 100,
  "nome completo": 100,
  name: 80,
  naam: 80,
  contact: 70,
  "display name": 70,
});

const COMPANY = vocabulary({
  company: 100,
  "company name": 100,
  "organization name": 95,
  "organisation name": 95,
  firma: 95,
  firmenname: 95,
  societe: 95,
  entreprise: 95,
  empresa: 95,
  "nombre empresa": 95,
  azienda: 95,
  bedrijf: 95,
  bedrijfsnaam: 95,
  organization: 90,
  organisation: 90,
  organizacion: 90,
  unternehmen: 90,
  "account name": 85,
  "business name": 85,
  employer: 80,
  account: 60,
});

/** "Title" alone is the job in Salesforce but Mr/Ms in Outlook, whose "Job Title" then wins. */
const ROLE = vocabulary({
  "job title": 100,
  jobtitle: 100,
  "job role": 90,
  "organization title": 90,
  berufsbezeichnung: 90,
  role: 85,
  "job position": 85,
  cargo: 85,
  puesto: 85,
  ruolo: 85,
  position: 80,
  poste: 80,
  functie: 80,
  designation: 75,
  occupation: 75,
  fonction: 75,
  title: 70,
  funktion: 70,
  job: 60,
});

/** A word that makes a column a phone number. */
const PHONE_WORDS = new Set([
  ...["phone", "phones", "telephone", "tel", "tele", "telefon", "telefono", "telefone", "telefoon", "phonenumber", "telefonnummer"],
  ...["rufnummer", "homephone", "workphone", "otherphone", "cellphone", "mobilephone"],
]);
const MOBILE_WORDS = new Set(["mobile", "mobil", "mobiltelefon", "mobilephone", "mobilnummer", "cell", "cellphone", "cellular", "handy", "handynummer", "portable", "movil", "celular", "telemovel", "gsm", "whatsapp"]);
const WORK_WORDS = new Set(["work", "workphone", "business", "office", "company", "corporate", "direct", "geschaftlich", "dienstlich", "buro", "bureau", "professionnel", "pro", "trabajo", "oficina", "trabalho", "comercial", "werk", "zakelijk", "arbeit", "ufficio", "lavoro"]);
const HOME_WORDS = new Set(["home", "homephone", "private", "personal", "privat", "casa", "domicile", "maison", "residence", "residential", "thuis", "prive", "perso", "personnel", "particulier", "personale", "residencial"]);
const OTHER_WORDS = new Set(["other", "otherphone", "alternate", "alternative", "alt", "secondary", "additional", "extra", "backup", "andere", "weitere", "autre", "otro", "outro", "altro", "car", "radio"]);

/** Words of columns about a number rather than holding one ("Phone Type", "Fax", "Do Not Call", "Owner Phone"). */
const NOT_A_PHONE = new Set([
  ...["fax", "telefax", "pager", "beeper", "label", "type", "kind", "ext", "extension", "durchwahl", "country", "code", "prefix"],
  ...["area", "opt", "optin", "optout", "opted", "consent", "subscribed", "unsubscribed", "status", "verified", "valid"],
  ...["validated", "invalid", "carrier", "line", "call", "calls", "called", "calling", "last", "date", "time", "count", "do"],
  ...["dnc", "donotcall", "searchable", "calculated", "hash", "hashed", "assistant", "asst", "owner", "app", "device", "provider"],
  ...["is", "has", "sms", "texts", "network", "operator", "format", "formatted", "region"],
]);

const EMAIL_WORDS = new Set(["email", "emails", "emailaddress", "mail", "courriel", "correo", "epost", "mailadresse", "emailadresse"]);
/** Words of columns about an address rather than holding one ("Email Opt Out", "Email Display Name", "IsEmailBounced"). */
const NOT_AN_EMAIL = new Set([
  ...["opt", "optin", "optout", "opted", "bounce", "bounced", "bounces", "unsubscribe", "unsubscribed", "subscribe"],
  ...["subscription", "subscribed", "consent", "status", "verified", "valid", "validated", "invalid", "type", "kind"],
  ...["label", "display", "domain", "sent", "send", "opened", "open", "click", "clicked", "clicks", "last", "date"],
  ...["time", "count", "marketing", "campaign", "hashed", "hash", "do", "dne", "has", "is", "format", "preference"],
  ...["preferences", "quality", "score", "template", "reply", "replied", "thread", "sequence", "newsletter"],
  ...["permission", "confirmed", "spam", "blocked", "encoding", "owner", "assistant", "reason"],
]);
const EMAIL_WORK_WORDS = new Set(["work", "business", "office", "company", "corporate", "geschaftlich", "dienstlich", "professionnel", "pro", "trabajo", "trabalho", "zakelijk", "ufficio", "lavoro"]);
const EMAIL_HOME_WORDS = new Set(["home", "personal", "private", "privat", "perso", "personnel", "casa", "maison", "prive", "personale"]);

/** The phone labels quo-sync proposes; Quo accepts any label text. */
type PhoneLabel = "mobile" | "work" | "home" | "other";
type EmailLabel = "work" | "home" | "other";

/** A guess at a column holding a number or an address: its label, or none for a plain "Phone". */
interface LabelGuess<L> {
  column: string;
  label?: L;
  number?: number;
}

/** How far below its score a form without the record prefix counts ("Lead ID" after "Contact ID"). */
const PREFIX_PENALTY = 5;
/** How far below a numbered column ("Organization 2 - Name") counts than the first one. */
const LATER_NUMBER_PENALTY = 30;
/** How far below its score an id column with blank or repeated values in the samples counts. */
const NOT_UNIQUE_PENALTY = 60;

/** The forms of a column: its name's, and its label's for a HubSpot property. */
function formsOf(c: SourceColumn): HeaderForms[] {
  return c.label !== undefined && c.label !== c.name ? [headerForms(c.name), headerForms(c.label)] : [headerForms(c.name)];
}

/** How well a column's forms match a vocabulary: 0 when not at all. */
function scoreIn(forms: readonly HeaderForms[], words: Vocabulary): number {
  let best = 0;
  for (const f of forms) {
    const later = f.number !== undefined && f.number > 1 ? LATER_NUMBER_PENALTY : 0;
    const literal = words.get(squash(f.literal)) ?? 0;
    const stripped = (words.get(squash(f.stripped)) ?? 0) - (f.prefixed ? PREFIX_PENALTY : 0);
    best = Math.max(best, literal - later, stripped - later);
  }
  return best;
}

function keyScore(forms: readonly HeaderForms[]): number {
  const named = scoreIn(forms, KEY);
  if (named > 0) return named;
  const guessed = forms.some((f) => ID_WORDS.has(f.stripped[f.stripped.length - 1] as string) && !f.literal.some((w) => NOT_THE_CONTACT.has(w)));
  return guessed ? ID_RULE_SCORE : 0;
}

/** Whether any form of the column has one of `words`. */
function has(forms: readonly HeaderForms[], words: ReadonlySet<string>): boolean {
  return forms.some((f) => f.literal.some((w) => words.has(w)));
}

function phoneLabelOf(forms: readonly HeaderForms[]): PhoneLabel | undefined {
  return has(forms, MOBILE_WORDS) ? "mobile" : has(forms, WORK_WORDS) ? "work" : has(forms, HOME_WORDS) ? "home" : has(forms, OTHER_WORDS) ? "other" : undefined;
}

function emailLabelOf(forms: readonly HeaderForms[]): EmailLabel | undefined {
  return has(forms, EMAIL_WORK_WORDS) ? "work" : has(forms, EMAIL_HOME_WORDS) ? "home" : has(forms, OTHER_WORDS) ? "other" : undefined;
}

function guess<L>(c: SourceColumn, forms: readonly HeaderForms[], label: L | undefined): LabelGuess<L> {
  const number = forms.find((f) => f.number !== undefined)?.number;
  return { column: c.name, ...(label !== undefined ? { label } : {}), ...(number !== undefined ? { number } : {}) };
}

function phoneGuess(c: SourceColumn, forms: readonly HeaderForms[]): LabelGuess<PhoneLabel> | undefined {
  if (!has(forms, PHONE_WORDS) && !has(forms, MOBILE_WORDS)) return undefined;
  return has(forms, NOT_A_PHONE) ? undefined : guess(c, forms, phoneLabelOf(forms));
}

function emailGuess(c: SourceColumn, forms: readonly HeaderForms[]): LabelGuess<EmailLabel> | undefined {
  if (!has(forms, EMAIL_WORDS) || has(forms, NOT_AN_EMAIL)) return undefined;
  return guess(c, forms, emailLabelOf(forms));
}

/** `label`, or "label 2", "label 3", … when `taken` has it. */
function unusedLabel(label: string, taken: readonly string[]): string {
  if (!taken.includes(label)) return label;
  for (let n = 2; ; n++) if (!taken.includes(`${label} ${n}`)) return `${label} ${n}`;
}

/**
 * The label for a phone or e-mail column a person adds: the one its header names (mobile, work,
 * home, other), else "other"; numbered when `taken` has it. Never throws.
 */
export function suggestLabel(kind: "phone" | "email", column: SourceColumn, taken: readonly string[]): string {
  const forms = formsOf(column);
  return unusedLabel((kind === "phone" ? phoneLabelOf(forms) : emailLabelOf(forms)) ?? "other", taken);
}

/**
 * Labels for guessed columns, in source order: a column's own word (mobile, work, …), else the
 * first plain one ("Phone", "Phone 1 - Value") takes the first of `primary` no column claims and
 * later plain ones ("Phone 2") are "other"; a label used twice becomes "work 2", "work 3".
 */
export function labelColumns<L extends string>(guesses: readonly LabelGuess<L>[], primary: readonly L[]): LabelledColumn[] {
  const claimed = new Set(guesses.flatMap((g) => (g.label ? [g.label] : [])));
  const primaryLabel = primary.find((l) => !claimed.has(l)) ?? "other";
  let primaryTaken = false;
  const seen = new Map<string, number>();
  return guesses.map((g) => {
    let label: string;
    if (g.label) label = g.label;
    else if (!primaryTaken && (g.number === undefined || g.number <= 1)) {
      label = primaryLabel;
      primaryTaken = true;
    } else label = "other";
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return { label: n === 1 ? label : `${label} ${n}`, column: g.column };
  });
}

/** Whether the sampled values of a column are all there and all different. */
function uniqueIn(samples: readonly Readonly<Record<string, string>>[], column: string): boolean {
  const values = samples.map((r) => (r[column] ?? "").trim());
  return values.every((v) => v !== "") && new Set(values).size === values.length;
}

interface Scored {
  column: string;
  score: number;
}

/** The best-scoring column not yet used; the earlier one on a tie. */
function best(columns: readonly SourceColumn[], score: (c: SourceColumn) => number, used: ReadonlySet<string>): Scored | undefined {
  let top: Scored | undefined;
  for (const c of columns) {
    if (used.has(c.name)) continue;
    const s = score(c);
    if (s > 0 && (top === undefined || s > top.score)) top = { column: c.name, score: s };
  }
  return top;
}

/** The config name of a custom field: its name, unless another field has the same name (then its key). */
function configNameOf(field: CustomFieldDefinition, all: readonly CustomFieldDefinition[]): string {
  const sameName = all.filter((d) => d.name.toLowerCase() === field.name.toLowerCase());
  return sameName.length > 1 ? field.key : field.name;
}

const q = (s: string): string => `'${s}'`;

/**
 * Proposes a mapping for `columns`. The key is the most id-like column (`id`, "Contact ID",
 * "Record ID", `hs_object_id`, …), preferring one whose sampled values are unique, else the first
 * e-mail or phone column, else the first column, each fallback with a note. Columns whose header is
 * a custom field's name (case-insensitive) map to it first; then phones and e-mails (every such
 * column, under a label), names, company and role; then custom fields whose name matches a column
 * once spaces and punctuation are ignored. A column is proposed for one field at most (the key
 * aside). Pure; never throws.
 */
export function proposeMapping(columns: readonly SourceColumn[], opts: ProposeOptions = {}): MappingProposal {
  const forms = new Map(columns.map((c) => [c.name, formsOf(c)]));
  const formsOfColumn = (c: SourceColumn): HeaderForms[] => forms.get(c.name) as HeaderForms[];
  const samples = opts.samples ?? [];
  const defs = opts.customFields ?? [];
  const notes: string[] = [];
  const used = new Set<string>();

  const keyScores = columns.map((c) => {
    const s = keyScore(formsOfColumn(c));
    return { column: c.name, score: s > 0 && samples.length > 0 && !uniqueIn(samples, c.name) ? s - NOT_UNIQUE_PENALTY : s };
  });
  const keyPick = best(columns, (c) => keyScores.find((k) => k.column === c.name)?.score ?? 0, used);

  const customFields: CustomFieldChoice[] = defs.map((field) => ({ configName: configNameOf(field, defs), field }));
  for (const choice of customFields) {
    const wanted = choice.field.name.trim().toLowerCase();
    const c = columns.find((col) => !used.has(col.name) && (col.name.trim().toLowerCase() === wanted || col.label?.trim().toLowerCase() === wanted));
    if (c) {
      choice.column = c.name;
      used.add(c.name);
    }
  }

  const phoneGuesses: LabelGuess<PhoneLabel>[] = [];
  const emailGuesses: LabelGuess<EmailLabel>[] = [];
  for (const c of columns) {
    if (used.has(c.name) || c.name === keyPick?.column) continue;
    const email = emailGuess(c, formsOfColumn(c));
    const phone = email ? undefined : phoneGuess(c, formsOfColumn(c));
    if (email) emailGuesses.push(email);
    if (phone) phoneGuesses.push(phone);
    if (email || phone) used.add(c.name);
  }
  const phoneNumbers = labelColumns<PhoneLabel>(phoneGuesses, ["mobile", "work"]);
  const emails = labelColumns<EmailLabel>(emailGuesses, ["work", "home"]);

  const first = best(columns, (c) => scoreIn(formsOfColumn(c), FIRST_NAME), used);
  if (first) used.add(first.column);
  const last = best(columns, (c) => scoreIn(formsOfColumn(c), LAST_NAME), used);
  if (last) used.add(last.column);
  const full = best(columns, (c) => (c.name === keyPick?.column ? 0 : scoreIn(formsOfColumn(c), FULL_NAME)), used);
  let name: NameProposal;
  if (first) name = { form: "parts", first: first.column, ...(last ? { last: last.column } : {}) };
  else if (last && full) {
    // "Name" beside "Surname" is the first name, as UK forms write it.
    name = { form: "parts", first: full.column, last: last.column };
    used.add(full.column);
  } else if (full) {
    name = { form: "full", column: full.column };
    used.add(full.column);
  } else name = { form: "parts", ...(last ? { last: last.column } : {}) };

  const company = best(columns, (c) => scoreIn(formsOfColumn(c), COMPANY), used);
  if (company) used.add(company.column);
  const role = best(columns, (c) => scoreIn(formsOfColumn(c), ROLE), used);
  if (role) used.add(role.column);

  for (const choice of customFields) {
    if (choice.column !== undefined) continue;
    const wanted = new Set([squash(headerForms(choice.field.name).literal), squash(headerForms(choice.field.key).literal)]);
    const c = columns.find((col) => !used.has(col.name) && formsOfColumn(col).some((f) => wanted.has(squash(f.literal))));
    if (c) {
      choice.column = c.name;
      used.add(c.name);
    }
  }

  let key = keyPick?.column;
  if (keyPick && samples.length > 0 && !uniqueIn(samples, keyPick.column)) {
    notes.push(`The key ${q(keyPick.column)} has blank or repeated values in the first ${samples.length} rows; a key must be unique and never change, or rows are rejected.`);
  }
  if (key === undefined) {
    key = emails[0]?.column ?? phoneNumbers[0]?.column ?? columns[0]?.name;
    if (key !== undefined) {
      notes.push(
        `No id column found: the key is ${q(key)}. When a contact's ${q(key)} changes, the sync sees a new contact (and, with deletes: "mirror", deletes the old one); an id column that never changes is better.`,
      );
    }
  }

  if (name.form === "parts" && name.first === undefined) {
    const stand = company?.column ?? columns.find((c) => c.name !== key && !used.has(c.name))?.name ?? key;
    if (stand !== undefined) {
      name = { ...name, first: stand };
      notes.push(`No first-name column found: firstName is ${q(stand)}, since Quo needs a first name on every contact.`);
    }
  }

  return {
    ...(key !== undefined ? { key } : {}),
    name,
    ...(company ? { company: company.column } : {}),
    ...(role ? { role: role.column } : {}),
    phoneNumbers,
    emails,
    customFields,
    notes,
  };
}
