/**
 * Plain-language hints that turn a failing field into what the receiving
 * authority needs from the sender. A hint is looked up by schema name and by
 * the field's path pattern (array indices written `*`, e.g.
 * `/assistance/*\/identifiers`), optionally per error code; failing that the
 * nearest described parent field, and last a generic hint per code.
 *
 * The version 2 forms add their fields in schemas/hints-v2.ts.
 *
 * The wording is the advice an experienced central-authority officer gives a
 * prosecutor: what to write and why the requested state needs it.
 */

import { mlaRequestHintsV2, preservationRequestHintsV2, statusUpdateHintsV2 } from "./hints-v2.js";

/** A hint for a field: one text, or texts per error code with an optional default. */
export type HintEntry = string | { readonly [code: string]: string | undefined; readonly default?: string };

/** Hints of one schema, keyed by path pattern. */
export type HintTable = Readonly<Record<string, HintEntry>>;

const AUTHORITY_ID_FORM = "two-letter country code, then one to three upper-case words joined by hyphens";

function authorityHints(prefix = ""): HintTable {
  return {
    [`${prefix}/requestingAuthority`]: `Give the Valise authority id of your own central authority (for example GB-UKCA): ${AUTHORITY_ID_FORM}. Replies and evidence are addressed to it.`,
    [`${prefix}/requestedAuthority`]: `Give the Valise authority id of the central authority you are asking (for example US-DOJ-OIA): ${AUTHORITY_ID_FORM}. It must be a peer your gateway trusts.`,
  };
}

function urgencyHints(prefix = ""): HintTable {
  return {
    [`${prefix}/urgency`]: "Say how urgent the request is, as an object with a level (normal, urgent or emergency) and, unless normal, a reason.",
    [`${prefix}/urgency/level`]:
      "Choose normal, urgent (a date you cannot move: a trial, a custody time limit, data about to be deleted) or emergency (an imminent risk to someone's life or safety).",
    [`${prefix}/urgency/reason`]: {
      required:
        "Explain why the request cannot wait the normal time: an imminent risk to a person, a trial date, a custody time limit, or data about to be deleted. The requested authority prioritises by this reason and downgrades urgency it cannot see justified.",
      default:
        "Explain the urgency concretely (what will happen, and when, if the request waits); a one-word reason does not let the requested authority justify jumping the queue.",
    },
  };
}

function contactHints(prefix = ""): HintTable {
  return {
    [`${prefix}/contact`]:
      "Name the person at your authority the requested authority can call or write to about this request: name, organisation, email and phone.",
    [`${prefix}/contact/name`]: "Give the full name of the contact person, who knows the case and can answer questions.",
    [`${prefix}/contact/role`]: "Give the contact person's function, e.g. 'Senior Crown Prosecutor' or 'case officer, central authority'.",
    [`${prefix}/contact/organisation`]: "Give the office the contact person works for, as it should be addressed in a reply.",
    [`${prefix}/contact/email`]: "Give an email address that is read every working day (for emergencies, one that is read around the clock).",
    [`${prefix}/contact/phone`]: "Give a phone number in international form, starting with + and the country code, e.g. +44 20 7946 0000.",
    [`${prefix}/contact/languages`]: "List the languages the contact person can work in, as tags such as en or fr; it saves the requested authority an interpreter.",
    [`${prefix}/contact/availability`]: "Say when the contact person can be reached, e.g. 'working days 9:00-17:00 UTC' or '24/7 via the duty desk'.",
  };
}

function identifierHints(prefix: string): HintTable {
  return {
    [prefix]: {
      default:
        "Give at least one identifier (email address, account, phone number, IP address, IBAN...) and the provider that holds the data; the requested authority cannot order the disclosure of data it cannot pin down.",
    },
    [`${prefix}/*`]: "Each identifier needs a kind (email, account, phone...) and a value.",
    [`${prefix}/*/kind`]:
      "Say what the identifier is: email, account, username, phone, ip-address, domain, url, iban, bank-account, card-number, crypto-address, imei, imsi, device-serial, vehicle-registration, postal-address, person, document-number or other.",
    [`${prefix}/*/value`]:
      "Give the identifier exactly as the provider records it: the full email address, the phone number in international form, the account number without spaces.",
    [`${prefix}/*/provider`]:
      "Name the provider or institution that holds the data (the email service, the bank, the telecom operator), so the requested authority knows on whom to serve the order.",
    [`${prefix}/*/note`]:
      "Add what the provider needs to find the record, e.g. the date, time and time zone of an IP address and the source port.",
  };
}

function dateRangeHints(prefix: string, what: string): HintTable {
  return {
    [prefix]: {
      default: `Give the period of the ${what} (from and to, YYYY-MM-DD, both days included), as narrow as the facts allow; providers and courts will not disclose data without a time frame.`,
      "date-range-too-long":
        "Content data is the most intrusive kind of data: narrow the period to at most 180 days around the events described in the facts, or explain in dateRangeJustification why the whole period is needed.",
    },
    [`${prefix}/from`]: "Give the first day of the period, YYYY-MM-DD.",
    [`${prefix}/to`]: {
      default: "Give the last day of the period, YYYY-MM-DD.",
      "date-range-reversed": "The period ends before it starts; check the from and to dates.",
    },
  };
}

const OFFENCE_CATEGORY_HINT =
  "Choose the category closest to the offence from the list; it is used for routing and statistics, and for listed offences some states waive dual criminality.";

/** Hints of the `mla-request` form, one for every field. */
/** Hints of a document's attachments (common.schema.json#/$defs/attachments); the sending gateway writes them from its uploads. */
function attachmentHints(): Record<string, HintEntry> {
  return {
    "/attachments": "Name each uploaded file this document carries as {uploadId, role}; the gateway lists it with its size, SHA-256 and item key.",
    "/attachments/*/itemId": "The gateway sets the item id to the upload's id; give the uploadId you got from POST /api/v1/uploads.",
    "/attachments/*/name": "Give a plain file name without folders, leading dot or control characters (the name given when the file was uploaded).",
    "/attachments/*/mediaType": "Give the media type the file was uploaded with, e.g. application/pdf.",
    "/attachments/*/size": "The gateway sets the size from the upload; the receiver compares it after decryption.",
    "/attachments/*/sha256": "The gateway sets the SHA-256 from the upload; the receiver compares it after decryption.",
    "/attachments/*/role": "Say what the file is: letter-of-request, court-order, warrant, translation, exhibit, answer or other.",
    "/attachments/*/language": "Give the language of the file as a BCP 47 tag, e.g. en or fr (useful for translations).",
    "/attachments/*/description": "Describe the file in a sentence if its role and name do not say enough.",
    "/attachments/*/encryption": "The gateway seals each attachment under its own key; do not give one.",
    "/attachments/*/encryption/alg": "The gateway sets A256GCM-STREAM.",
    "/attachments/*/encryption/key": "The gateway sets the 32-byte item key.",
    "/attachments/*/encryption/noncePrefix": "The gateway sets the 7-byte nonce prefix.",
    "/attachments/*/encryption/chunkSize": "The gateway sets the chunk size.",
  };
}

export const MLA_REQUEST_HINTS: HintTable = {
  ...attachmentHints(),
  "": "Send the request as one JSON object with the fields of the Valise mla-request form.",
  "/kind": 'Set kind to "mla-request" so the receiving gateway knows which form it reads.',
  "/reference":
    "Give your own file number for this request; the requested authority quotes it in every reply and status update.",
  ...authorityHints(),
  "/issuingAuthority":
    "Name the court, judge or prosecutor on whose behalf the request is made; many states take coercive measures only on a request issued or validated by a judicial authority.",
  "/issuingAuthority/name": "Give the full official name of the issuing court or prosecution office, as on a letter of request.",
  "/issuingAuthority/type":
    "Say what kind of authority issues the request: court, investigating-judge, prosecutor, police or other. Many states refuse coercive measures requested by the police alone.",
  "/issuingAuthority/country": "Give the issuing authority's country as a two-letter code, e.g. GB.",
  "/issuingAuthority/reference": "Give the issuing authority's own case number, if it differs from yours.",
  "/legalBasis":
    "Cite the treaty or convention the request is made under, with the article (e.g. the bilateral MLA treaty, or the Budapest Convention, art. 31), or state reciprocity. The requested authority checks its duty to assist against this.",
  "/legalBasis/*/type":
    "Say whether the basis is a bilateral treaty, a multilateral convention, or reciprocity (assistance without a treaty, on the promise to do the same in return).",
  "/legalBasis/*/instrument":
    "Give the full title of the treaty or convention, e.g. 'Convention on Cybercrime (ETS No. 185)'.",
  "/legalBasis/*/article": "Give the article that obliges the requested state to provide this assistance, e.g. 'Art. 31'.",
  "/legalBasis/*/assurance":
    "Under reciprocity, state that your authorities would grant a similar request from the requested state; without that assurance most states cannot act.",
  ...urgencyHints(),
  "/confidentiality":
    "Say whether the request must be kept confidential (requested: true or false) and, if so, why.",
  "/confidentiality/requested":
    "Set requested to true if the existence and content of the request must not be disclosed, e.g. by the provider to the account holder; false otherwise.",
  "/confidentiality/reason":
    "Explain what disclosure would put at risk (the suspect would destroy evidence, warn accomplices or flee); the requested authority needs this to obtain a non-disclosure order from its court or the provider.",
  "/offence":
    "Describe the offence under investigation: what it is, its category, the provisions that create it and the maximum penalty.",
  "/offence/description":
    "Name the offence in plain words, e.g. 'fraud by false representation and laundering of the proceeds'; the requested authority uses this to assess dual criminality.",
  "/offence/category": OFFENCE_CATEGORY_HINT,
  "/offence/provisions":
    "Cite the statutory provisions that create the offence (act and section) and, ideally, quote their text; the requested authority must check that the conduct is an offence in its law too.",
  "/offence/provisions/*": "Each provision needs a citation, e.g. 'Fraud Act 2006, s. 1'.",
  "/offence/provisions/*/citation": "Give the act and section, e.g. 'Fraud Act 2006, s. 1'.",
  "/offence/provisions/*/text": "Quote the text of the provision in the language of the request.",
  "/offence/maximumPenalty":
    "State the maximum penalty the law provides; some measures (content data, search, interception) are available only for offences above a penalty threshold.",
  "/offence/maximumPenalty/description": "Describe the maximum penalty in words, e.g. '10 years' imprisonment and an unlimited fine'.",
  "/offence/maximumPenalty/imprisonmentYears": "Give the maximum term of imprisonment in years, as a number (0 if the offence carries no imprisonment).",
  "/offence/maximumPenalty/lifeImprisonment": "Set to true if the offence carries life imprisonment.",
  "/offence/limitation":
    "Say when prosecution becomes time-barred; the requested authority may refuse if the limitation period has run out.",
  "/facts": {
    required:
      "Describe the facts that give reason to believe the data is linked to the offence; the requested authority must be able to assess necessity.",
    "too-short":
      "The facts are too thin to act on. Say what happened, when and where, who is suspected and on what evidence, and how each account or item sought is linked to the offence; the requested authority must be able to assess necessity (and, for content data, meet its own evidential threshold).",
    default:
      "Describe the facts that give reason to believe the data is linked to the offence; the requested authority must be able to assess necessity.",
  },
  "/jurisdiction":
    "Describe the jurisdictional nexus: where the offence was committed and the nationalities of suspects and victims; the requested authority uses this to confirm your jurisdiction and to spot competing proceedings.",
  "/jurisdiction/offenceCountries":
    "List the countries (two-letter codes, e.g. GB) where the offence or any part of it was committed, including where the victim suffered the loss.",
  "/jurisdiction/suspectNationalities":
    "List the suspects' nationalities as two-letter codes; give an empty list if unknown and say so in explanation. Some states assist against their own nationals only on conditions.",
  "/jurisdiction/victimNationalities":
    "List the victims' nationalities as two-letter codes; give an empty list if unknown or if the victim is a company (give its country in explanation).",
  "/jurisdiction/explanation":
    "Explain what the lists do not show, e.g. why your courts have jurisdiction over conduct abroad, or that a nationality is unknown.",
  "/persons":
    "List the persons concerned (suspects, victims, witnesses, account holders) with what you know of each; the requested authority needs this to identify them and to apply the protections its law gives.",
  "/persons/*": "Each person needs an id, a role and a name.",
  "/persons/*/id": "Give each person a short local id (e.g. 'p1') that assistance items can refer to with an identifier of kind 'person'.",
  "/persons/*/role": "Say what the person is in the case: suspect, accused, victim, witness, account-holder or other.",
  "/persons/*/name": "Give the full name as known; if it is not known, write 'unknown' and describe the person in description.",
  "/persons/*/aliases": "List other names, nicknames or online handles the person uses.",
  "/persons/*/dateOfBirth": "Give the date of birth as YYYY-MM-DD, if known; it is often what lets the requested authority identify the person.",
  "/persons/*/placeOfBirth": "Give the place of birth, if known.",
  "/persons/*/nationalities": "List the person's nationalities as two-letter codes, if known.",
  "/persons/*/address": "Give the last known address, in particular if it is in the requested state.",
  "/persons/*/identityDocuments": "List identity documents known for the person: type, number and issuing country.",
  "/persons/*/identityDocuments/*": "Each identity document needs a type, a number and the issuing country.",
  "/persons/*/identityDocuments/*/type": "Choose passport, national-id, driving-licence, residence-permit or other.",
  "/persons/*/identityDocuments/*/number": "Give the document number exactly as printed.",
  "/persons/*/identityDocuments/*/issuingCountry": "Give the issuing country as a two-letter code.",
  "/persons/*/description":
    "Describe the person's part in the facts, and anything that helps identify them if the name is unknown.",
  "/assistance":
    "List what you ask the requested authority to do, one item per measure (subscriber data, traffic data, content data, a search...); each item is assessed and executed on its own.",
  "/assistance/*":
    "Each item needs a type, a description, at least one identifier and a statement of necessity and proportionality.",
  "/assistance/*/type":
    "Choose one of: subscriber-data, traffic-data, content-data, preservation, witness-testimony, search-and-seizure, bank-records, freezing-or-confiscation, other. Each type meets different legal tests in the requested state, so split a mixed request into several items.",
  "/assistance/*/description":
    "Say exactly what is to be obtained or done for this item (e.g. 'subscriber details and login IP addresses of the account'); the requested authority turns this into an order, and vague wording delays execution.",
  ...identifierHints("/assistance/*/identifiers"),
  ...dateRangeHints("/assistance/*/dateRange", "data sought"),
  "/assistance/*/dateRangeJustification":
    "Explain why the data of the whole period is needed, e.g. because the facts show the conduct ran over that period; the requested authority must find the intrusion proportionate.",
  "/assistance/*/necessityAndProportionality":
    "Explain why this item is needed to prove the offence or find the offender, and why a less intrusive measure would not do; the requested authority must assess necessity and proportionality before executing it.",
  "/assistance/*/preservationReference":
    "Give the reference of the preservation already made for this data (24/7 network or provider reference), so the requested authority can match it before it expires.",
  "/preservation":
    "List preservation already obtained for the data sought (reference, date, custodian), so the requested authority can link the request to the preserved data before it is released.",
  "/preservation/*": "Each preservation needs its reference, the date it was requested and the custodian.",
  "/preservation/*/reference": "Give the reference the preservation was given (by the 24/7 point of contact, the provider or Valise).",
  "/preservation/*/requestedOn": "Give the date the preservation was requested, YYYY-MM-DD.",
  "/preservation/*/custodian": "Name the provider or institution that preserved the data.",
  "/preservation/*/channel": "Say how the preservation was obtained: 24-7-network, valise-preservation-request, direct-to-provider or other.",
  "/preservation/*/expiresOn": "Give the date the preservation lapses, YYYY-MM-DD, so the requested authority can act or extend it in time.",
  "/deadline":
    "Give the date by which you need the assistance and why (trial date, custody time limit, data retention period); a deadline without a reason is read as a wish.",
  "/deadline/date": "Give the date by which you need the assistance, YYYY-MM-DD.",
  "/deadline/reason": "Explain what happens on that date (trial, custody limit, data deletion) so the requested authority can plan execution.",
  "/procedures":
    "Describe formalities needed for the evidence to be admissible in your courts (e.g. a certificate of authenticity, a business records declaration, presence of your officers); the requested authority follows them where its law allows.",
  "/useLimitationAcknowledged":
    "Set useLimitationAcknowledged to true to confirm that the evidence will be used only for the proceedings described, unless the requested authority consents; most treaties make this a condition of assistance.",
  "/humanRightsAssurances":
    "Give the assurances the requested state may need: that the death penalty will not be sought or carried out, that the person will have a fair trial, that personal data will be protected. Without them a state may be barred from assisting.",
  "/humanRightsAssurances/*": "Each assurance needs a kind and a statement.",
  "/humanRightsAssurances/*/kind":
    "Choose death-penalty, torture-or-inhuman-treatment, fair-trial, non-discrimination, data-protection or other.",
  "/humanRightsAssurances/*/statement":
    "Write the assurance as your authority gives it, e.g. 'The death penalty will not be sought or imposed for the offences described.'",
  "/language":
    "Give the language of the request as a tag such as en or fr; if the requested state does not accept that language, attach a translation.",
  ...contactHints(),
  "/attachments":
    "List supporting documents by name and SHA-256 digest; the digest lets the requested authority check that the file it receives is the one referred to.",
  "/attachments/*": "Each attachment needs a name, a media type, its SHA-256 digest and a description.",
  "/attachments/*/name": "Give the file name, without folders.",
  "/attachments/*/mediaType": "Give the file's media type, e.g. application/pdf.",
  "/attachments/*/sha256": "Give the SHA-256 digest of the file as 64 lowercase hexadecimal characters (e.g. the output of sha256sum).",
  "/attachments/*/size": "Give the file size in bytes.",
  "/attachments/*/description": "Say what the document is and what it shows, e.g. 'witness statement of the victim's finance director'.",
};

/** Hints of the `preservation-request` form, one for every field. */
export const PRESERVATION_REQUEST_HINTS: HintTable = {
  ...attachmentHints(),
  "": "Send the preservation request as one JSON object with the fields of the Valise preservation-request form.",
  "/kind": 'Set kind to "preservation-request" so the receiving gateway knows which form it reads.',
  "/reference": "Give your own file number; the requested authority quotes it when it confirms the preservation.",
  ...authorityHints(),
  "/legalBasis":
    "Cite the instrument and article, normally the Budapest Convention, art. 29 (expedited preservation of stored computer data).",
  "/legalBasis/instrument": "Give the title of the instrument, e.g. 'Convention on Cybercrime (ETS No. 185)'.",
  "/legalBasis/article": "Give the article, e.g. 'Art. 29'.",
  ...urgencyHints(),
  "/offence": "Summarise the offence: a description and its category, with the provisions if you have them.",
  "/offence/description":
    "Name the offence in plain words, e.g. 'fraud by false representation'; the requested authority checks it is a criminal offence before it orders preservation.",
  "/offence/category": OFFENCE_CATEGORY_HINT,
  "/offence/provisions": "Cite the provisions that create the offence, e.g. 'Fraud Act 2006, s. 1'.",
  "/offence/provisions/*": "Give the act and section, e.g. 'Fraud Act 2006, s. 1'.",
  "/facts": {
    required:
      "Summarise the facts that link the data to the offence; the requested authority must see that the data may be evidence before it orders the custodian to preserve it.",
    "too-short":
      "The summary is too brief: say what happened, when, and how the account or number is linked to the offence. A few sentences suffice, but they must stand on their own.",
    default:
      "Summarise the facts that link the data to the offence; the requested authority must see that the data may be evidence.",
  },
  "/dataTypes":
    "Say which kinds of data are to be preserved: subscriber-data, traffic-data, content-data or other. Preserve everything you will later ask for; data not preserved may be deleted.",
  "/dataTypes/*": "Choose subscriber-data, traffic-data, content-data or other.",
  ...identifierHints("/identifiers"),
  ...dateRangeHints("/dateRange", "data to be preserved"),
  "/custodian": "Name the provider or other custodian that holds the data.",
  "/custodian/name": "Give the custodian's name (e.g. the email service or operator), so the requested authority knows whom to order to preserve.",
  "/custodian/country": "Give the country where the custodian is established, as a two-letter code.",
  "/custodian/contact": "Give the custodian's law-enforcement contact point if you know it; it speeds up the order.",
  "/preservationDays":
    "Give the number of days (1 to 90) the data must be kept; the Budapest Convention provides at least 60, enough time to send the MLA request for disclosure.",
  "/mlaRequestToFollow":
    "Say (true or false) whether an MLA request for disclosure will follow; under Budapest Convention art. 29 preservation is granted in view of such a request.",
  "/nonDisclosure":
    "Set to true if the custodian must not tell the account holder about the preservation; otherwise the suspect may be warned.",
  ...contactHints(),
};

/** Hints of the `status-update` document. */
export const STATUS_UPDATE_HINTS: HintTable = {
  ...attachmentHints(),
  "/kind": 'Set kind to "status-update".',
  "/caseId": "Give the case id (a lowercase UUID) the requesting gateway assigned to the case.",
  "/step": "Choose the lifecycle step taken: acknowledge, start-review, request-more-info, provide-more-info, accept, report-progress, executed, refuse, withdraw or close.",
  "/status": "Give the state the case is in after this step.",
  "/at": "Give the time of the step in UTC, e.g. 2025-01-31T09:30:00.000Z.",
  "/note": "Add any explanation for the other authority in plain words.",
  "/grounds":
    "A refusal must cite at least one ground (e.g. dual-criminality, human-rights) with an explanation; the requesting authority needs it to decide whether it can cure the defect.",
  "/grounds/*/ground":
    "Choose a recognised ground for refusal: sovereignty-security-public-order, political-offence, discrimination, double-jeopardy, military-offence, human-rights, dual-criminality, insufficient-justification, disproportionate or other.",
  "/grounds/*/explanation": "Explain how the ground applies to this request, so the requesting authority can answer or reformulate.",
  "/questions":
    "List what you need to know before you can execute the request, one question per entry; precise questions get precise answers.",
  "/answers": {
    required:
      "Providing more information means answering the questions the requested authority asked: give one answer per question, in the same order. The answers travel sealed with the step.",
    default: "Answer the questions asked, one entry per question, in the same order.",
  },
  "/conditions": "State each condition attached to acceptance or to the use of what is delivered.",
  "/delivered": "Say what was delivered: a description in text and/or the ids of the evidence packages sent.",
  "/delivered/packageIds": "Give the package ids (lowercase UUIDs) of the evidence packages delivered.",
  "/delivered/text": "Describe what was delivered.",
};

/** Hints of the `evidence-manifest` document. */
export const EVIDENCE_MANIFEST_HINTS: HintTable = {
  "/completes": "Say whether the package completes the execution (executed) or part of it (partially-executed).",
  "/items": "List every item of the package; the receiver checks each upload against its entry.",
  "/items/*/name": "Give a plain file name without folders, leading dot or control characters; the receiver may store it under that name.",
  "/items/*/sha256": "Give the SHA-256 of the item's plaintext as 64 lowercase hexadecimal characters; the receiver compares it after decryption.",
  "/items/*/size": "Give the plaintext size in bytes; the receiver compares it after decryption.",
  "/items/*/source": "Say where the item came from (at least the organisation that produced it); it is part of the chain of custody.",
  "/items/*/legalInstrument": "Name the order or legal instrument under which the item was obtained.",
  "/items/*/acquiredAt": "Give the time the item was obtained, in UTC.",
  "/items/*/encryption": "Give the item key, nonce prefix and chunk size used to seal the item (alg A256GCM-STREAM).",
  "/items/*/encryption/key": "Give the 32-byte item key as unpadded base64url (43 characters).",
  "/items/*/encryption/noncePrefix": "Give the 7-byte nonce prefix as unpadded base64url (10 characters).",
  "/items/*/encryption/chunkSize": "Give the chunk size in bytes, between 65536 and 16777216.",
};

/** Hints of the `receipt` payload. */
export const RECEIPT_HINTS: HintTable = {
  "/envelopeDigest": "Give the SHA-256 of the outer JWS signing input, as 64 lowercase hexadecimal characters.",
  "/log": "Give the receiver's log position: origin, index, signed checkpoint and inclusion proof.",
  "/log/origin": "Give the log origin, valise/<authority id>.",
  "/log/inclusionProof": "Give the RFC 9162 inclusion proof as a list of standard base64 SHA-256 hashes.",
};

/** Hints of the `envelope` routing header. */
export const ENVELOPE_HINTS: HintTable = {
  "/valise": "Set valise to 1, the envelope format version.",
  "/payload": "Give the encrypted document as a compact JWE: five base64url parts separated by dots.",
  "/createdAt": "Give the creation time in UTC, e.g. 2025-01-31T09:30:00.000Z; it must be within the allowed clock skew.",
};

/** Hints of the `audit-entry` document. */
export const AUDIT_ENTRY_HINTS: HintTable = {
  "/kind": "Give the entry kind as dotted lowercase words, e.g. envelope.sent or access.read.",
  "/details": "Give details as an object of digests and metadata, never document content.",
};

/** A version 1 table: `table` without the hints of attachment fields the version 1 form does not have (only mla-request v1 lists attachments, and without uploads). */
function version1(table: HintTable, attachmentFields: readonly string[]): HintTable {
  const uploadOnly = new Set(Object.keys(attachmentHints()).filter((path) => !attachmentFields.includes(path)));
  return Object.fromEntries(Object.entries(table).filter(([path]) => !uploadOnly.has(path)));
}

const MLA_REQUEST_V1_ATTACHMENT_FIELDS = ["/attachments", "/attachments/*/name", "/attachments/*/mediaType", "/attachments/*/size", "/attachments/*/sha256", "/attachments/*/description"];

/** Hint tables by schema name: the version 2 forms, and the version 1 forms (`*-v1`) with the hints above. */
export const HINTS_BY_SCHEMA: Readonly<Record<string, HintTable>> = {
  "mla-request": mlaRequestHintsV2(MLA_REQUEST_HINTS),
  "preservation-request": preservationRequestHintsV2(PRESERVATION_REQUEST_HINTS),
  "status-update": statusUpdateHintsV2(STATUS_UPDATE_HINTS),
  "mla-request-v1": version1(MLA_REQUEST_HINTS, MLA_REQUEST_V1_ATTACHMENT_FIELDS),
  "preservation-request-v1": version1(PRESERVATION_REQUEST_HINTS, []),
  "status-update-v1": version1(STATUS_UPDATE_HINTS, []),
  "evidence-manifest": EVIDENCE_MANIFEST_HINTS,
  receipt: RECEIPT_HINTS,
  envelope: ENVELOPE_HINTS,
  "audit-entry": AUDIT_ENTRY_HINTS,
};

/** The hint used when no field-specific hint applies, per error code. */
export const GENERIC_HINTS: Readonly<Record<string, string>> = {
  required: "Add this field; the receiving authority cannot process the document without it.",
  type: "Give the value in the type the message names (text, number, true/false, list or object).",
  "too-short": "Give more detail; the receiving authority must be able to act on this field without coming back to you.",
  "too-long": "Shorten this field; put long material in an attachment referred to by its SHA-256 digest.",
  "too-few": "Add entries until the minimum the message names is reached.",
  "too-many": "Reduce the number of entries, or split the matter into separate documents.",
  "too-small": "Give a value within the allowed range the message names.",
  "too-large": "Give a value within the allowed range the message names.",
  pattern: "Write the value in the form the message describes.",
  format: "Write the value in the standard form the message describes.",
  enum: "Use one of the listed values exactly as written (lower case, with hyphens).",
  "not-allowed":
    "Remove this field or check its spelling; only the fields of the form are accepted, so nothing travels that the receiving authority would not read.",
  duplicate: "Remove the repeated entry.",
  "date-range-too-long":
    "Narrow the period to the limit the message names, or explain in dateRangeJustification why the whole period is needed.",
  "date-range-reversed": "The period ends before it starts; check the from and to dates.",
  "no-match": "Check the field against the form; it matches none of the accepted shapes.",
  invalid: "Check the field against the form.",
  filler: "Write this field in your own words for this case; placeholder, repeated or copied-over text tells the requested authority nothing it can act on.",
  "unknown-reference": "Refer only to an entry the document lists (a person's id, a preservation's reference, an attachment's name); add the entry first.",
  "too-early": "The date falls before the one it may not precede (e.g. a deadline before the request was issued); check it.",
  "instrument-mismatch": "Make the instrument, the kind of request and the legal basis agree: cite the instrument the request names.",
  "judicial-validation-required": "This measure needs a judge, court or prosecutor to issue or validate the request under its instrument; give the validating authority.",
  "not-allowed-for-instrument": "The instrument named does not provide for this; send it under another instrument.",
  "required-by-instrument": "The instrument the request names requires this field; add it, or check that the instrument is the right one.",
  "outside-instrument-limits": "Give a value within the bounds the instrument sets, which the message names.",
  "unknown-peer": "Address the request to a central authority this gateway exchanges with.",
  "version-not-accepted": "Write the document in a version of the form the peer reads; the message names them.",
};

/** `/assistance/0/identifiers` → `/assistance/*\/identifiers`. */
export function pathPattern(path: string): string {
  return path
    .split("/")
    .map((segment, i) => (i > 0 && /^(0|[1-9][0-9]*)$/.test(segment) ? "*" : segment))
    .join("/");
}

function ownHint(entry: HintEntry | undefined, code: string): string | undefined {
  if (entry === undefined || typeof entry === "string") return entry;
  return entry[code] ?? entry.default;
}

function parentHint(entry: HintEntry | undefined): string | undefined {
  return entry === undefined || typeof entry === "string" ? entry : entry.default;
}

/**
 * The hint for a failing field: the field's own hint (per code, then default),
 * else the nearest parent field's hint (except for fields that are not
 * allowed at all, where a parent's advice would mislead), else the generic
 * hint for the code.
 *
 * @example hintFor("mla-request", "/assistance/2/identifiers", "too-few")
 */
export function hintFor(schemaName: string, path: string, code: string): string {
  const table = HINTS_BY_SCHEMA[schemaName] ?? {};
  let pattern = pathPattern(path);
  const own = ownHint(table[pattern], code);
  if (own !== undefined) return own;
  if (code !== "not-allowed") {
    while (pattern !== "") {
      pattern = pattern.slice(0, pattern.lastIndexOf("/"));
      const parent = parentHint(table[pattern]);
      if (parent !== undefined) return parent;
    }
  }
  return GENERIC_HINTS[code] ?? GENERIC_HINTS["invalid"] ?? "Check the field against the form.";
}
