import { and, asc, eq } from "drizzle-orm";
import { isProviderKind, type Provider } from "../domain/provider";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { providers } from "./schema";

type ProviderRow = typeof providers.$inferSelect;

function toProvider(row: ProviderRow): Provider | null {
  // Rows are only written from validated providers; a foreign kind means the row was edited by hand.
  if (!isProviderKind(row.kind)) return null;
  return { name: row.name, kind: row.kind, network: row.network, config: row.config as Provider["config"] };
}

function toProviders(rows: ProviderRow[]): Provider[] {
  return rows.map(toProvider).filter((provider): provider is Provider => provider !== null);
}

/** Every provider, ordered by name (byte order of the UTF-8 name). */
export async function listProviders(db: Db): Promise<Provider[]> {
  return toProviders(await db.select().from(providers).orderBy(asc(providers.name)));
}

/** The providers that could serve a raw dataset of this kind and network. */
export async function listProvidersFor(db: Db, kind: string, network: string): Promise<Provider[]> {
  const rows = await db
    .select()
    .from(providers)
    .where(and(eq(providers.kind, kind), eq(providers.network, network)))
    .orderBy(asc(providers.name));
  return toProviders(rows);
}

export async function getProvider(db: Db, name: string): Promise<Provider | null> {
  const [row] = await db.select().from(providers).where(eq(providers.name, name));
  return row ? toProvider(row) : null;
}

/**
 * Inserts a provider unless one of that name exists, in one statement, so two
 * concurrent creations of the same name cannot both succeed or overwrite.
 * Returns false when the name was taken.
 */
export async function insertProvider(db: Db, provider: Provider): Promise<boolean> {
  const createdAt = nowTimestamp();
  const inserted = await db
    .insert(providers)
    .values({ name: provider.name, kind: provider.kind, network: provider.network, config: provider.config, createdAt })
    .onConflictDoNothing({ target: providers.name })
    .returning({ name: providers.name });
  return inserted.length > 0;
}

/** Deletes a provider; deleting one that does not exist is not an error. */
export async function deleteProvider(db: Db, name: string): Promise<void> {
  await db.delete(providers).where(eq(providers.name, name));
}
