import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { chainHeads } from "./schema";

/** Keeps the head a job of the manifest just read. */
export async function recordChainHead(db: Db, head: { manifestHash: string; network: string; head: number }): Promise<void> {
  const values = { manifestHash: head.manifestHash, network: head.network, headBlock: head.head, observedAt: nowTimestamp() };
  await db.insert(chainHeads).values(values).onConflictDoUpdate({ target: chainHeads.manifestHash, set: values });
}
