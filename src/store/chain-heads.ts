import { eq } from "drizzle-orm";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { chainHeads } from "./schema";

/** Keeps the head a job of the manifest just read. */
export async function recordChainHead(db: Db, head: { manifestHash: string; network: string; head: number }): Promise<void> {
  const values = { manifestHash: head.manifestHash, network: head.network, headBlock: head.head, observedAt: nowTimestamp() };
  await db.insert(chainHeads).values(values).onConflictDoUpdate({ target: chainHeads.manifestHash, set: values });
}

/** The head a job of the manifest read last; null when none was ever read (or recorded). */
export async function readChainHead(db: Db, manifestHash: string): Promise<number | null> {
  const [row] = await db.select({ head: chainHeads.headBlock }).from(chainHeads).where(eq(chainHeads.manifestHash, manifestHash));
  return row?.head ?? null;
}
