/**
 * `npm run demo -- --store postgres://…`: the demo on PostgreSQL. The URL
 * names a server (and a database to connect to for administration); each
 * authority gets a database of its own there, made for this run and dropped
 * at the end (kept with --keep).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

/** The two databases of a run, and how to drop them. */
export interface DemoDatabases {
  readonly gb: string;
  readonly us: string;
  drop(): Promise<void>;
}

/** Creates `valise_demo_<run>_gb` and `…_us` on the server of `adminUrl`; returns their URLs. */
export async function createDemoDatabases(adminUrl: string): Promise<DemoDatabases> {
  const run = randomBytes(4).toString("hex");
  const names = { gb: `valise_demo_${run}_gb`, us: `valise_demo_${run}_us` };
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    for (const name of Object.values(names)) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const urlOf = (name: string): string => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    gb: urlOf(names.gb),
    us: urlOf(names.us),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
      await client.connect();
      try {
        for (const name of Object.values(names)) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
