/**
 * A child process for the store conformance suite: opens the store given as
 * JSON in argv[2] and appends argv[3] audit entries, one transaction each,
 * every fifth transaction rolled back after its append (its index must be
 * given back). Prints "done" when finished.
 */
import { openStore, type StoreLocation } from "../../gateway/store/store.js";
import { appendEntry } from "../../gateway/audit/append.js";

const location = JSON.parse(process.argv[2]!) as StoreLocation;
const count = Number(process.argv[3]);
const name = process.argv[4] ?? "worker";
const store = await openStore(location, "apply");
let rolledBack = 0;
await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    try {
      await store.transaction(async (tx) => {
        await appendEntry(tx, { kind: "test.append", actor: name, time: new Date(), details: { i } });
        if (i % 5 === 4) throw new Error("roll back");
      });
    } catch (error) {
      if ((error as Error).message !== "roll back") throw error;
      rolledBack += 1;
    }
  }),
);
await store.close();
console.log(JSON.stringify({ done: true, rolledBack }));
