/**
 * Content-Disposition of evidence downloads (RFC 6266, RFC 8187), read back
 * by a second implementation: Python's email package parses the header and
 * decodes the extended parameter (RFC 2231/8187), so the test does not check
 * the encoder against itself.
 */
import { execFileSync } from "node:child_process";
import { expect } from "chai";
import { asciiFileName, attachmentDisposition } from "../../../gateway/http/content-disposition.js";

/** Each header's `filename` and decoded `filename*` as Python reads them (one interpreter for all). */
export function parsedByPython(headers: readonly string[]): Array<{ fallback: string; extended: string }> {
  const script = `
import email, email.utils, json, sys
answers = []
for header in json.load(sys.stdin):
    message = email.message_from_string("Content-Disposition: " + header + "\\n\\n")
    found = {}
    for key, value in message.get_params(header="content-disposition")[1:]:
        if isinstance(value, tuple):
            found["extended"] = email.utils.collapse_rfc2231_value(value)
        else:
            found["fallback"] = value
    answers.append(found)
print(json.dumps(answers))
`;
  return JSON.parse(execFileSync("python3", ["-c", script], { input: JSON.stringify(headers), encoding: "utf8" })) as Array<{ fallback: string; extended: string }>;
}

describe("gateway/http: Content-Disposition of a download", function () {
  const names: Array<[string, string]> = [
    ["login-records.csv", "login-records.csv"],
    ["Kontoauszüge März 2025.pdf", "Kontoauszuge Marz 2025.pdf"],
    ['say "cheese".jpg', "say _cheese_.jpg"],
    ["back\\slash and 100%.txt", "back_slash and 100_.txt"],
    ["свидетельство.docx", "_____________.docx"],
    ["日本語 ✓ 📎.txt", "___ _ _.txt"],
    ["tab\there\u0085nel\u0000.bin", "tab_here_nel_.bin"],
    ["(paren)'s * file.log", "(paren)'s * file.log"],
  ];

  let parsed: Array<{ fallback: string; extended: string }>;
  before(function () {
    parsed = parsedByPython(names.map(([name]) => attachmentDisposition(name)));
  });

  names.forEach(([name, fallback], i) => {
    it(`${JSON.stringify(name)}: printable ASCII, an ASCII filename and the exact name in filename*`, function () {
      expect(attachmentDisposition(name)).to.match(/^[\x20-\x7e]+$/);
      expect(asciiFileName(name)).to.equal(fallback);
      expect(parsed[i]!.fallback).to.equal(fallback);
      // Control characters are replaced in both parameters; everything else is kept exactly.
      expect(parsed[i]!.extended).to.equal(name.replace(/[\u0000-\u001f\u007f-\u009f]/g, "_"));
    });
  });

  it("never gives an empty fallback", function () {
    expect(asciiFileName("")).to.equal("evidence");
  });
});
