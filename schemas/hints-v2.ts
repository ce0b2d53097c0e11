/**
 * Hints of the version 2 forms (schemas/versions.ts): every field that
 * version 2 adds to the request and status-update forms, and the advice that
 * changed, written as a central-authority officer would advise a prosecutor.
 * The version 1 hints (schemas/hints.ts) stay as they were, for documents of
 * version 1; these tables are built on them.
 */
import type { HintTable } from "./hints.js";

const INSTRUMENT_CHOICE =
  "Choose the instrument the request is made under: mla-treaty (a bilateral treaty), convention (a multilateral convention such as UNTOC or the 1959 European Convention), reciprocity (no treaty), eio (a European Investigation Order), epoc (a European Production Order) or budapest-31 (Budapest Convention art. 31). It decides the sections you must fill in, the grounds on which the requested state may refuse, and the time limits that apply.";

/** Hints of the issuing and validating authority, shared by both request forms. */
function authorityHints(): HintTable {
  return {
    "/issuedOn": "Give the date the issuing authority signed the request, YYYY-MM-DD; the requested authority judges how recent the grounds are against it.",
    "/issuingAuthority/signatory": "Name the person who signs for the issuing authority and their post; an unsigned order is not recognised.",
    "/issuingAuthority/signatory/name": "Give the full name of the judge, prosecutor or officer who signs the request.",
    "/issuingAuthority/signatory/position": "Give the signatory's post, e.g. 'Senior Crown Prosecutor' or 'investigating judge'.",
    "/issuingAuthority/address": "Give the postal address of the issuing authority, as on its letterhead.",
    "/issuingAuthority/phone": "Give the issuing authority's phone number in international form, starting with + and the country code.",
    "/issuingAuthority/email": "Give an email address of the issuing authority that is read every working day.",
    "/issuingAuthority/languages": "List the languages the issuing authority can correspond in, as tags such as en or fr.",
    "/validatingAuthority": {
      required:
        "A request issued by the police or another non-judicial authority must be validated by a judge, court or prosecutor: name who validated it, when, and under which reference. Without validation the requested state cannot recognise the order.",
      "judicial-validation-required":
        "This measure needs a judicial decision under the instrument named: have the request validated by a judge or court (for content and traffic data under an EPOC, a prosecutor is not enough) and give the validating authority here, or have it issued by one.",
      default: "Name the judge, court or prosecutor who validated the request: type, name, reference and date of validation.",
    },
    "/validatingAuthority/type": {
      "judicial-validation-required":
        "The validating authority's type does not suffice for this measure under the instrument named: content and traffic data under an EPOC need a judge, court or investigating judge.",
      default: "Choose court, judge, investigating-judge or prosecutor.",
    },
    "/validatingAuthority/name": "Give the full official name of the validating court or prosecution office.",
    "/validatingAuthority/reference": "Give the validating authority's own file number for its decision.",
    "/validatingAuthority/validatedOn": "Give the date of the validation, YYYY-MM-DD.",
  };
}

function urgencyGroundsHints(): HintTable {
  return {
    "/urgency/grounds": {
      required:
        "Say why the request is urgent, from the list: threat-to-life-or-safety, critical-infrastructure, risk-of-loss-of-evidence, person-in-custody, imminent-hearing, limitation-period, ongoing-offence or other. A requested authority triages on these grounds.",
      "no-match":
        "An emergency means an imminent threat to someone's life or physical integrity, or to critical infrastructure: list threat-to-life-or-safety or critical-infrastructure among the grounds, or choose the level urgent instead.",
      default: "List the grounds of urgency, each once, from the values the message names.",
    },
  };
}

function precisionHints(prefix: string): HintTable {
  return {
    [`${prefix}/*/observedAt`]:
      "Give the date and time the address was seen, to the second and with its time zone (e.g. 2025-03-02T14:07:31+01:00). Dynamic and shared addresses change hands every few minutes: without the exact time the provider answers 'no data'.",
    [`${prefix}/*/port`]:
      "Give the source port the address used at that time (from the server or mail logs). Mobile operators share one IPv4 address among hundreds of customers (carrier-grade NAT); only the port tells them apart. If the address is known not to be shared, set natExcluded to true instead.",
    [`${prefix}/*/protocol`]: "Say whether the connection was tcp or udp, if the logs show it.",
    [`${prefix}/*/natExcluded`]: "Set to true only when the address is known not to be shared (a fixed line, a server), so no port is needed.",
  };
}

function confidentialityHints(prefix = ""): HintTable {
  return {
    [`${prefix}/confidentiality`]:
      "Say whether the request must be kept confidential (requested: true or false) and, if so, why, what exactly (scope) and for how long (until or durationDays).",
    [`${prefix}/confidentiality/requested`]:
      "Set requested to true if the existence or content of the request must not be disclosed, e.g. by the provider to its customer; false otherwise.",
    [`${prefix}/confidentiality/reason`]: {
      "too-short":
        "Asking that the provider not tell its customer needs a factual basis of its own (at least 100 characters): what the suspect would do if warned, and why the risk is real in this case.",
      default:
        "Explain what disclosure would put at risk (the suspect would destroy evidence, warn accomplices or flee); the requested authority needs this to obtain a non-disclosure order.",
    },
    [`${prefix}/confidentiality/scope`]:
      "Say what must stay confidential: existence-of-request, content-of-request, no-customer-notification (the provider must not tell its customer) or delay-data-subject-notification.",
    [`${prefix}/confidentiality/until`]: {
      required:
        "Give how long confidentiality is needed, either as a date (until) or as a number of days (durationDays); orders of indefinite secrecy are refused or cut short.",
      default: "Give the last day confidentiality is needed, YYYY-MM-DD.",
    },
    [`${prefix}/confidentiality/durationDays`]: {
      required:
        "Give how long confidentiality is needed, either as a number of days (durationDays, at most 365) or as a date (until); orders of indefinite secrecy are refused or cut short.",
      default: "Give the number of days confidentiality is needed, at most 365; ask again with reasons if more is needed.",
    },
    [`${prefix}/confidentiality/reviewOn`]: "Give the date on which you will review whether confidentiality is still needed.",
  };
}

/** Version 2 additions to the mla-request hints. */
export function mlaRequestHintsV2(v1: HintTable): HintTable {
  const { "/assistance/*/identifiers/*/provider": _provider, "/deadline/date": _date, ...kept } = v1;
  return {
    ...kept,
    "/schemaVersion": "Set schemaVersion to 2, the version of the form this request is written in; a request without it is read as version 1.",
    "/instrument": {
      "instrument-mismatch": "This instrument is not used for this kind of request; for a quick freeze send a preservation-request.",
      default: INSTRUMENT_CHOICE,
    },
    ...authorityHints(),
    "/issuingAuthority/type":
      "Say what kind of authority issues the request: court, investigating-judge, prosecutor, police or other. A request issued by the police or another authority must also name the judge, court or prosecutor who validated it.",
    "/domesticDecision":
      "Say on which domestic decision the request rests (a court order, warrant or prosecutor's decision, with its authority, date and reference), or that none is required; many states take coercive measures only on such a decision.",
    "/domesticDecision/kind": "Choose court-order, warrant, investigating-judge-order, prosecutor-decision or none-required.",
    "/domesticDecision/authority": "Name the court or office that took the decision.",
    "/domesticDecision/date": "Give the date of the decision, YYYY-MM-DD.",
    "/domesticDecision/reference": "Give the decision's reference or case number.",
    "/domesticDecision/attachment": {
      "unknown-reference": "Name a file listed in attachments (by its name), or attach the decision first.",
      default: "Give the name of the attachment that holds the decision, as listed in attachments.",
    },
    "/legalBasis": {
      "instrument-mismatch":
        "Cite the instrument the request names: an EIO rests on Directive 2014/41/EU (type eu-instrument, instrumentCode eu-dir-2014-41), an EPOC on Regulation 2023/1543 (eu-reg-2023-1543), a Budapest request on the Convention on Cybercrime (multilateral-convention, coe-ets-185), a treaty request on a treaty, reciprocity on an assurance.",
      default:
        "Cite the treaty or convention the request is made under, with the article, or state reciprocity. The requested authority checks its duty to assist against this.",
    },
    "/legalBasis/*/type":
      "Say whether the basis is a bilateral treaty, a multilateral convention, an EU instrument (eu-instrument), domestic law (domestic-law), or reciprocity.",
    "/legalBasis/*/instrumentCode":
      "Give a short machine-readable code of the instrument, lower-case words joined by hyphens: eu-dir-2014-41 (EIO), eu-reg-2023-1543 (EPOC), coe-ets-185 (Budapest), coe-ets-030 (1959 Convention), or the code your office uses for the treaty, e.g. gb-us-mlat-1994.",
    "/proceedings":
      "Describe the proceedings the request serves: their type (investigation, prosecution, trial, appeal, execution of sentence...) and whether they have been instituted. The stage decides which route and formalities apply.",
    "/proceedings/type":
      "Choose criminal-investigation, prosecution, trial, appeal, execution-of-sentence, confiscation or administrative-offence.",
    "/proceedings/instituted": "Say (true or false) whether proceedings have formally been opened against anyone.",
    "/proceedings/court": "Name the court seized of the case and its case number; required for a trial or appeal.",
    "/proceedings/court/name": "Give the full name of the court.",
    "/proceedings/court/caseNumber": "Give the court's case number.",
    "/proceedings/nextHearing": "Give the date of the next hearing, YYYY-MM-DD, if one is set; it often decides the urgency.",
    "/proceedings/sentence": "For the execution of a sentence, give its length in months and whether it was passed in absentia.",
    "/proceedings/sentence/months": "Give the length of the custodial sentence in months.",
    "/proceedings/sentence/inAbsentia": "Say (true or false) whether the sentence was passed in the person's absence.",
    "/proceedings/description": "Describe in a few words where the proceedings stand, e.g. 'suspect charged on 3 May; trial expected in the autumn'.",
    "/relatedRequests":
      "List earlier and parallel requests linked to this one (a preservation it follows, an earlier request it supplements, a request to another state in the same case), so the requested authority can join them up.",
    "/relatedRequests/*":
      "Each related request needs its relation, its reference and the authority that holds it.",
    "/relatedRequests/*/relation":
      "Choose supplements, follows-up, replaces, parallel-to, follows-preservation, follows-police-request or follows-emergency-disclosure.",
    "/relatedRequests/*/reference": "Give the reference of the related request (yours, or the ticket number the other authority gave it).",
    "/relatedRequests/*/authority": "Name the authority that holds the related request.",
    "/relatedRequests/*/country": "Give that authority's country as a two-letter code.",
    "/relatedRequests/*/date": "Give the date of the related request, YYYY-MM-DD.",
    "/relatedRequests/*/caseId": "Give the Valise case id of the related request, if it went through Valise.",
    ...urgencyGroundsHints(),
    ...confidentialityHints(),
    "/jurisdiction/suspectNationalities": "List the suspects' nationalities as two-letter codes, if known; some states assist against their own nationals only on conditions.",
    "/jurisdiction/victimNationalities": "List the victims' nationalities as two-letter codes, if relevant.",
    "/persons/*": "Each person needs an id, a type (natural or legal), a role and a name.",
    "/persons/*/type": "Say whether the person is a natural person (natural) or a company or other legal person (legal).",
    "/persons/*/role": "Say what the person is in the case: suspect, accused, victim, witness, expert, account-holder, third-party or other.",
    "/persons/*/id": "Give each person a short local id (e.g. 'p1') that assistance items refer to (hearing.personRef, dataSubject.personRef).",
    "/persons/*/sex": "Give the person's sex (female, male, other or unknown) if it helps identify them.",
    "/persons/*/languages": "List the languages the person understands, as tags such as en or pt; the requested authority books an interpreter with this.",
    "/persons/*/nationalIdNumber": "Give the national identity or social-security number, if known.",
    "/persons/*/addressStatus": "Say whether the address is the current one or only the last known one.",
    "/persons/*/residenceCountry":
      "Give the country the person lives in, as a two-letter code, if known; under an EPOC it decides whether the enforcing state is notified.",
    "/persons/*/legalForm": "Give the company's legal form, e.g. 'private limited company' or 'besloten vennootschap'.",
    "/persons/*/registrationNumber": "Give the company's registration number in its commercial register.",
    "/persons/*/registrationCountry": "Give the country of the register, as a two-letter code.",
    "/persons/*/registeredSeat": "Give the company's registered office address.",
    "/persons/*/representative": "Name the company's legal representative, if known.",
    "/assistance/*":
      "Each item needs a type, a description and a statement of necessity and proportionality, plus what its type requires (identifiers and a period for data, a hearing for testimony, a place for a search...).",
    "/assistance/*/type": {
      "not-allowed-for-instrument":
        "The instrument named does not provide for this measure: an EPOC covers subscriber-data, identification-data, traffic-data and content-data only. Send other measures as an EIO or a treaty request.",
      default:
        "Choose the measure: subscriber-data, identification-data, traffic-data, content-data, real-time-traffic-data, interception, provisional-measure, witness-testimony, hearing-by-videoconference, service-of-documents, search-and-seizure, bank-records, temporary-transfer, freezing-or-confiscation or other. Each type meets different legal tests, so split a mixed request into several items.",
    },
    "/assistance/*/identifiers": {
      default:
        "Give at least one identifier (email address, account, phone number, IP address with time and port, IBAN...); the requested authority cannot order the disclosure of data it cannot pin down.",
    },
    "/assistance/*/identifiers/*/kind":
      "Say what the identifier is: email, account, username, phone, ip-address, domain, url, iban, bank-account, card-number, crypto-address, imei, imsi, device-serial, vehicle-registration, postal-address, document-number or other. Refer to persons with hearing.personRef or dataSubject.personRef instead.",
    "/assistance/*/identifiers/*/value": {
      pattern: "Write a phone number in E.164 form: + and the country code, then the digits without spaces, e.g. +447700900123.",
      format: "Give the full email address, e.g. name@provider.example.",
      default:
        "Give the identifier exactly as the provider records it: the full email address, the phone number in E.164 form, the account number without spaces.",
    },
    "/assistance/*/identifiers/*/note": "Add anything else the provider needs to find the record.",
    ...precisionHints("/assistance/*/identifiers"),
    "/assistance/*/serviceProvider": {
      "required-by-instrument":
        "Name the provider that holds the data as the addressee of the order: its name, the legal entity and its country (and, under an EPOC, whether it is the designated establishment or legal representative). The entity decides the channel and who must answer.",
      default: "Describe the provider that holds the data: name, legal entity, country and role.",
    },
    "/assistance/*/serviceProvider/name": "Give the provider's trading name, e.g. the email service.",
    "/assistance/*/serviceProvider/legalEntity": "Give the legal entity that holds the data, e.g. 'Example Ireland Ltd' rather than the group's name.",
    "/assistance/*/serviceProvider/country": "Give the country where that entity is established, as a two-letter code.",
    "/assistance/*/serviceProvider/role":
      "Choose main-establishment, designated-establishment, legal-representative, affiliate or data-holder.",
    "/assistance/*/serviceProvider/contact": "Give the provider's law-enforcement contact point, if known.",
    "/assistance/*/dataSubject": {
      "required-by-instrument":
        "Say whose data is sought and where that person lives (residenceCountry), or that the residence is unknown (residenceUnknown: true); under an EPOC the enforcing state is notified unless the person lives in the issuing state.",
      default: "Say whose data is sought and where that person lives, or that it is unknown.",
    },
    "/assistance/*/dataSubject/personRef": {
      "unknown-reference": "Give the id of a person listed in persons.",
      default: "Give the id (from persons) of the person whose data is sought.",
    },
    "/assistance/*/dataSubject/residenceCountry": "Give the country the person lives in, as a two-letter code.",
    "/assistance/*/dataSubject/residenceUnknown": "Set to true when the residence of the person is not known.",
    "/assistance/*/dateRangeJustification":
      "Explain why data of the whole period is needed, e.g. because the facts show the conduct ran over that period; the requested authority must find the intrusion proportionate.",
    "/assistance/*/necessityAndProportionality": {
      filler: "Write the necessity and proportionality in your own words for this item: why it is needed, and why a less intrusive measure would not do. Placeholder or repeated text is refused.",
      default:
        "Explain why this item is needed to prove the offence or find the offender, and why a less intrusive measure would not do; the requested authority must assess necessity and proportionality before executing it.",
    },
    "/assistance/*/evidentiaryBasis": {
      required:
        "For content, traffic, interception, search and bank measures, show why this account, place or person holds evidence of this offence: the specific facts that link it to the offence, where the identifier came from, and what you expect to find. Courts of the requested state (in the US: probable cause for content) decide on this, not on the facts of the case in general.",
      default: "Show why this identifier or place holds evidence of the offence: the link, its source, and what you expect to find.",
    },
    "/assistance/*/evidentiaryBasis/linkToOffence": {
      filler: "Write the specific facts that tie this identifier to the offence (dates, messages, payments, who saw what); placeholder or repeated text is refused.",
      default:
        "Give the specific facts showing that this identifier, place or person was used in, or holds evidence of, the offence (e.g. 'the fourteen fraudulent emails were sent from this account between 3 March and 12 June').",
    },
    "/assistance/*/evidentiaryBasis/identifierSource":
      "Say where the identifier came from: victim-records, seized-device, provider-disclosure, financial-records, witness, open-source, undercover or other.",
    "/assistance/*/evidentiaryBasis/identifierSourceDetail": "Describe the source of the identifier in a sentence, e.g. 'headers of the emails received by the victim'.",
    "/assistance/*/evidentiaryBasis/lastKnownActivity": {
      required:
        "For content data, give the last time the account is known to have been used for the offence, to the second with its time zone; stale grounds do not show that the account still holds evidence.",
      default: "Give the last known time of activity linked to the offence, to the second with its time zone.",
    },
    "/assistance/*/evidentiaryBasis/expectedEvidence": "Say what evidence you expect the measure to produce, e.g. 'who wrote the emails and from where'.",
    "/assistance/*/evidentiaryBasis/standardAddressed":
      "Say which evidential standard the basis is written to meet: relevance, reasonable-grounds, specific-and-articulable-facts or probable-cause (US content requests).",
    "/assistance/*/preservationReference": {
      "unknown-reference": "The reference must be one of the preservations listed in preservation or a related request in relatedRequests; add it there first.",
      default:
        "Give the reference of the preservation already made for this data, as listed in preservation or relatedRequests, so the requested authority can match it before it expires.",
    },
    "/assistance/*/placeOfExecution": "Say where the measure is to be carried out (address or place), if it matters.",
    "/assistance/*/hearing": "For a hearing, name the person (personRef), their capacity, and the questions to ask (or the attachment that lists them).",
    "/assistance/*/hearing/personRef": {
      "unknown-reference": "Give the id of a person listed in persons.",
      default: "Give the id (from persons) of the person to be heard.",
    },
    "/assistance/*/hearing/capacity": "Say in what capacity the person is heard: witness, expert, victim, suspect or accused.",
    "/assistance/*/hearing/questions": {
      required: "Give the questions to ask, one per entry, or name an attachment that lists them (questionsAttachment).",
      default: "List the questions to ask, one per entry, in the order they should be asked.",
    },
    "/assistance/*/hearing/questionsAttachment": {
      required: "Name the attachment that lists the questions, or give them in questions.",
      "unknown-reference": "Name a file listed in attachments.",
      default: "Give the name of the attachment that lists the questions, as listed in attachments.",
    },
    "/assistance/*/hearing/interpretation": "List the languages an interpreter is needed for, as tags such as pt or de.",
    "/assistance/*/hearing/oath": "Say whether the person is to be heard under oath (sworn), on affirmation (affirmed) or neither (none).",
    "/assistance/*/hearing/counselPresent": "Say (true or false) whether counsel may or must be present.",
    "/assistance/*/hearing/recording": "Say how the hearing is to be recorded: audio, video or written-record.",
    "/assistance/*/videoconference": "For a hearing by videoconference, say why the person cannot travel, propose dates and times, and give a technical contact.",
    "/assistance/*/videoconference/reasonNoTravel": "Explain why the person cannot or need not travel to your court.",
    "/assistance/*/videoconference/proposedDates": "Propose dates and times for the hearing, with their time zone.",
    "/assistance/*/videoconference/technicalContact": "Name the person or service who sets up the video link on your side, with a phone number.",
    "/assistance/*/service": "For service of a document, name the attachment to serve, the person to serve it on, and whether proof of service is needed.",
    "/assistance/*/service/documentAttachment": {
      "unknown-reference": "Name a file listed in attachments.",
      default: "Give the name of the attachment to be served, as listed in attachments.",
    },
    "/assistance/*/service/personRef": {
      "unknown-reference": "Give the id of a person listed in persons.",
      default: "Give the id (from persons) of the person to serve.",
    },
    "/assistance/*/service/proofOfServiceRequired": "Say (true or false) whether you need a proof of service back.",
    "/assistance/*/service/appearanceDate": "Give the date and time the person is summoned to appear, if the document is a summons.",
    "/assistance/*/search": "For a search, describe the place and the items sought.",
    "/assistance/*/search/place": "Describe the place to search precisely (address, premises, vehicle).",
    "/assistance/*/search/itemsSought": "Describe the items sought and why they are evidence; a search for 'anything relevant' is refused.",
    "/assistance/*/banking": "For bank records, name the institution and the account, and say why this institution holds them.",
    "/assistance/*/banking/institution": "Give the bank or financial institution's name.",
    "/assistance/*/banking/accountIdentifier": "Give the account number or IBAN, if known.",
    "/assistance/*/banking/whyThisInstitution": "Explain why you believe this institution holds the account or records (e.g. the IBAN's bank code, a payment confirmation).",
    "/assistance/*/transfer": "For a temporary transfer of a detained person, name the person, the purpose, the return date and the custody arrangements.",
    "/assistance/*/transfer/personRef": {
      "unknown-reference": "Give the id of a person listed in persons.",
      default: "Give the id (from persons) of the person to transfer.",
    },
    "/assistance/*/transfer/purpose": "Say why the person is needed (e.g. to give evidence at trial).",
    "/assistance/*/transfer/returnBy": "Give the date by which the person will be returned, YYYY-MM-DD.",
    "/assistance/*/transfer/custody": "Describe how the person will be kept in custody while in your state.",
    "/assistance/*/interceptionPeriod": "For interception or real-time collection, give the number of days and how the data is delivered (immediate or recorded).",
    "/assistance/*/interceptionPeriod/days": "Give the number of days the interception is to last.",
    "/assistance/*/interceptionPeriod/delivery": "Say whether the data is delivered immediately or recorded and delivered later.",
    "/facts": {
      required:
        "Describe the facts that give reason to believe the data is linked to the offence; the requested authority must be able to assess necessity.",
      "too-short":
        "The facts are too thin to act on. Say what happened, when and where, who is suspected and on what evidence, and how each account or item sought is linked to the offence; the requested authority must be able to assess necessity (and, for content data, meet its own evidential threshold).",
      filler: "Write the facts of the case in your own words: what happened, when, where, and on what evidence. Placeholder or repeated text is refused.",
      default:
        "Describe the facts that give reason to believe the data is linked to the offence; the requested authority must be able to assess necessity.",
    },
    "/deadline":
      "Give the time by which you need the assistance and why (trial date, custody time limit, data retention); the case's clocks count to it at the latest.",
    "/deadline/dueBy": {
      "too-early": "The deadline falls before the request was issued; check the date.",
      default: "Give the date and time by which you need the assistance, with its time zone, e.g. 2026-03-02T17:00:00Z.",
    },
    "/deadline/kind": "Say whether the assistance is needed no-later-than that time, or on-specific-date (e.g. a hearing).",
    "/deadline/reason": "Explain what happens at that time (trial, custody limit, data deletion) so the requested authority can plan execution.",
    "/humanRightsAssurances": {
      "required-by-instrument":
        "Under reciprocity the requested state has no treaty to rely on: give the assurances it needs (the death penalty will not be sought, a fair trial, data protection).",
      default:
        "Give the assurances the requested state may need: that the death penalty will not be sought or carried out, that the person will have a fair trial, that personal data will be protected.",
    },
    "/attachments/*/role": "Say what the attachment is: letter-of-request, domestic-order, questions, translation, evidence or other.",
  };
}

/** Version 2 additions to the preservation-request hints. */
export function preservationRequestHintsV2(v1: HintTable): HintTable {
  const { "/identifiers/*/provider": _provider, "/mlaRequestToFollow": _follow, "/nonDisclosure": _nd, ...kept } = v1;
  return {
    ...kept,
    "/schemaVersion": "Set schemaVersion to 2, the version of the form this request is written in; a request without it is read as version 1.",
    "/instrument": {
      "instrument-mismatch": "This instrument is not used for a quick freeze; choose budapest-29, epoc-pr, mla-treaty, convention or reciprocity.",
      default:
        "Choose the instrument the preservation is asked under: budapest-29 (Budapest Convention art. 29), epoc-pr (a European Preservation Order), mla-treaty, convention or reciprocity. It decides the period allowed and the time limits.",
    },
    "/issuingAuthority": "Name the authority that issues the preservation request; a request issued by the police needs a judge's or prosecutor's validation.",
    "/issuingAuthority/name": "Give the full official name of the issuing authority.",
    "/issuingAuthority/type": "Say what kind of authority issues the request: court, investigating-judge, prosecutor, police or other.",
    "/issuingAuthority/country": "Give the issuing authority's country as a two-letter code, e.g. GB.",
    "/issuingAuthority/reference": "Give the issuing authority's own case number, if it differs from yours.",
    ...authorityHints(),
    "/legalBasis": {
      "instrument-mismatch":
        "Cite the instrument the request names: budapest-29 rests on the Convention on Cybercrime (multilateral-convention, instrumentCode coe-ets-185), an EPOC-PR on Regulation 2023/1543 (eu-instrument, eu-reg-2023-1543).",
      default: "Cite the instrument and article, normally the Budapest Convention, art. 29 (expedited preservation of stored computer data).",
    },
    "/legalBasis/type": "Say whether the basis is a treaty, a multilateral convention, an EU instrument (eu-instrument), domestic law or reciprocity.",
    "/legalBasis/instrumentCode": "Give a short machine-readable code of the instrument, e.g. coe-ets-185 (Budapest) or eu-reg-2023-1543 (EPOC-PR).",
    ...urgencyGroundsHints(),
    "/facts": {
      filler: "Summarise the facts in your own words: what happened, when, and how the account is linked to the offence. Placeholder or repeated text is refused.",
      ...(typeof kept["/facts"] === "object" ? kept["/facts"] : {}),
    },
    "/necessity": {
      filler: "Explain in your own words why the data must be frozen now; placeholder or repeated text is refused.",
      default:
        "Explain why the data must be preserved now: the risk that it is deleted or altered (retention periods, an account about to close, a suspect who may delete it) before a request for its disclosure can be executed (Budapest art. 29(2)(e)).",
    },
    "/dataTypes": "Say which kinds of data are to be preserved: subscriber-data, identification-data, traffic-data, content-data or other. Preserve everything you will later ask for; data not preserved may be deleted.",
    "/dataTypes/*": "Choose subscriber-data, identification-data, traffic-data, content-data or other.",
    "/identifiers/*/kind":
      "Say what the identifier is: email, account, username, phone, ip-address, domain, url, iban, bank-account, card-number, crypto-address, imei, imsi, device-serial, vehicle-registration, postal-address, document-number or other.",
    "/identifiers/*/value": {
      pattern: "Write a phone number in E.164 form: + and the country code, then the digits without spaces, e.g. +447700900123.",
      default: "Give the identifier exactly as the custodian records it.",
    },
    "/identifiers/*/note": "Add anything else the custodian needs to find the record.",
    ...precisionHints("/identifiers"),
    "/custodian/legalEntity": "Give the legal entity that holds the data, e.g. 'Example Ireland Ltd'.",
    "/custodian/country": "Give the country where the custodian is established, as a two-letter code.",
    "/custodian/systemLocation": "Say where the computer system holding the data is, if known (Budapest art. 29(2)(d)).",
    "/preservationDays": {
      "outside-instrument-limits":
        "Give a period the instrument allows: 60 to 90 days under Budapest art. 29(7) (enough time to send the request for disclosure), exactly 60 under an EPOC-PR. Ask for more later with extend-preservation.",
      default: "Give the number of days the data must be kept: at least 60 under Budapest art. 29 (up to 90), 60 under an EPOC-PR. Extend it later with extend-preservation.",
    },
    "/followUp": {
      required:
        "Say which request for the data's disclosure will follow and by when; under Budapest art. 29(2)(f) a preservation is granted only in view of such a request.",
      default: "Say which request for disclosure will follow (its instrument) and by when.",
    },
    "/followUp/instrument": "Choose the instrument of the request that will follow: mla-treaty, convention, reciprocity, eio, epoc, budapest-31 or 2ap-art-8.",
    "/followUp/expectedBy": "Give the date by which you expect to send the request for disclosure, YYYY-MM-DD.",
    "/extends": "If this request extends an earlier preservation, give that preservation's reference (and its Valise case id).",
    "/extends/reference": "Give the reference of the preservation this request extends.",
    "/extends/caseId": "Give the Valise case id of the preservation this request extends.",
    ...confidentialityHints(),
  };
}

/** Version 2 additions to the status-update hints. */
export function statusUpdateHintsV2(v1: HintTable): HintTable {
  return {
    ...v1,
    "/schemaVersion": "Set schemaVersion to 2; the gateway sets it for you in the version the peer reads.",
    "/step":
      "Choose the lifecycle step taken: acknowledge, forward, start-review, request-more-info, provide-more-info, consult, propose-alternative-measure, agree-alternative, offer-conditions, accept-conditions, reject-conditions, confidentiality-not-possible, confirm-proceed, accept, notify-delay, postpone, legal-challenge, resume, report-progress, executed, refuse, unable-to-execute, extend-preservation, confirm-follow-up, withdraw or close.",
    "/grounds/*/ground":
      "Choose a ground for refusal that the case's instrument allows, e.g. dual-criminality, human-rights, immunity-or-privilege, pending-proceedings, compulsory-measure-not-available, territoriality, offence-list-or-threshold, press-freedom, death-penalty, lapse-of-time, national-security-intelligence or other. Data that is not held is no refusal: take unable-to-execute instead.",
    "/grounds/*/explanation": {
      filler: "Explain in your own words how the ground applies to this request; placeholder or repeated text is refused.",
      default: "Explain how the ground applies to this request, so the requesting authority can answer or reformulate.",
    },
    "/grounds/*/instrumentRef": "Give the provision the ground rests on, e.g. EIO-11-1-e or UNMT-4-1-d.",
    "/grounds/*/assistanceItems": {
      required: "A partial refusal must say, for each ground, which assistance items it covers (their positions in the request's list, from 0).",
      default: "List the assistance items the ground covers, by their position in the request's list (from 0); leave it out when the ground covers all.",
    },
    "/partial": "Set partial to true when only some assistance items are refused and the rest of the request goes on.",
    "/executingAuthority": "Name the authority that will execute the request, its reference and a contact (EIO Annex B).",
    "/executingAuthority/name": "Give the executing authority's name.",
    "/executingAuthority/reference": "Give the executing authority's own file number.",
    "/executingAuthority/contact": "Give a contact at the executing authority (name, phone, email).",
    "/receivedByCompetentAuthorityAt": "Give when the competent executing authority received the request, with its time zone.",
    "/forwardedTo": "Name the authority the request was forwarded to, its reference and a contact.",
    "/forwardedTo/name": "Give the name of the competent authority the request was forwarded to.",
    "/forwardedTo/reference": "Give that authority's file number, if it has one.",
    "/forwardedTo/contact": "Give a contact at that authority.",
    "/delay": "Say why execution is delayed and when you now expect to answer.",
    "/delay/reason": "Explain the cause of the delay concretely (e.g. the bank must retrieve archived records).",
    "/delay/expectedBy": "Give when you now expect to decide or to deliver, with its time zone.",
    "/postponement": "Give the reason for postponing, the date until which execution is postponed, and an explanation.",
    "/postponement/reason": "Choose ongoing-investigation, items-in-use-in-other-proceedings or other.",
    "/postponement/until": "Give the date until which execution is postponed, YYYY-MM-DD.",
    "/postponement/explanation": "Explain why execution now would prejudice the other investigation or proceedings.",
    "/consultation": "Give the topic of the consultation and your questions.",
    "/consultation/topic": "Choose proportionality, alternative-measure, conditions-before-refusal, costs or other.",
    "/consultation/questions": "List your questions to the requesting authority, one per entry.",
    "/alternative": "Describe the measure you propose instead, and why.",
    "/alternative/reason": "Choose measure-not-available, less-intrusive-same-result, measure-not-available-in-similar-domestic-case or other.",
    "/alternative/description": "Describe the alternative measure and what it will yield.",
    "/unable": "Say why the request cannot be executed (data not held, deleted, identifier not found...), with an explanation, and for which items.",
    "/unable/*/reason":
      "Choose data-not-held, data-deleted, identifier-not-found, person-not-found, provider-not-in-jurisdiction, measure-not-available, force-majeure, conflicting-foreign-law, legal-standard-not-met or other.",
    "/unable/*/explanation": {
      filler: "Explain in your own words what was found (or not) and why; placeholder or repeated text is refused.",
      default: "Explain what was done and why it could not be executed, e.g. the provider's retention period.",
    },
    "/unable/*/assistanceItems": "List the assistance items concerned, by position in the request's list (from 0); leave it out when all are.",
    "/extension": "Give the number of days the preservation is extended by, and why.",
    "/extension/days": "Give the number of days to add (the instrument caps it: 30 under an EPOC-PR, 90 under Budapest art. 29).",
    "/extension/reason": "Explain why the data must be kept longer (e.g. the request for disclosure is on its way).",
    "/followUp": "Give the request for disclosure that follows the preservation: its reference, instrument and Valise case id.",
    "/followUp/reference": "Give the reference of the request for disclosure.",
    "/followUp/caseId": "Give the Valise case id of the request for disclosure, if it went through Valise.",
    "/followUp/instrument": "Choose the instrument of the request for disclosure.",
    "/confidentialityIssue": "Explain which part of the requested confidentiality cannot be kept, and why.",
    "/confidentialityIssue/explanation": "Explain why confidentiality cannot be guaranteed (e.g. the law obliges the bank to tell its customer).",
    "/confidentialityIssue/scope": "List what cannot be kept confidential: existence-of-request, content-of-request, no-customer-notification or delay-data-subject-notification.",
    "/challenge": "Describe the legal challenge: the court or body seized, what is challenged, and when a decision is expected.",
    "/challenge/forum": "Name the court or body that decides the challenge.",
    "/challenge/description": "Describe what is challenged and by whom (without personal details beyond what is needed).",
    "/challenge/expectedDecision": "Give the date a decision is expected, YYYY-MM-DD.",
  };
}
