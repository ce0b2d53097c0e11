/**
 * The store of a gateway home: where its configuration says (SQLite in the
 * home by default, or PostgreSQL), opened for the gateway or a CLI command.
 */
import type { Home } from "../home.js";
import type { MigrationMode } from "./migrations.js";
import { openStore, type Store, type StoreLocation } from "./store.js";

/** Where the home's database lives. */
export function storeLocationOf(home: Home): StoreLocation {
  const store = home.config.store;
  if (store === undefined || store.kind === "sqlite") return { kind: "sqlite", path: home.paths.database };
  return { kind: "postgres", url: store.url };
}

/**
 * Opens the home's store. Commands that write (start, migrate, init, token,
 * pki, peers) pass "apply"; read-only ones (list, show, export, verify)
 * pass "refuse" and never migrate.
 */
export function openHomeStore(home: Home, migrate: MigrationMode): Promise<Store> {
  const store = home.config.store;
  return openStore(storeLocationOf(home), migrate, store?.kind === "postgres" && store.poolSize !== undefined ? { poolSize: store.poolSize } : {});
}

/** Opens the home's store, runs `work` and closes it (a CLI command's unit). */
export async function withHomeStore<T>(home: Home, migrate: MigrationMode, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openHomeStore(home, migrate);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
