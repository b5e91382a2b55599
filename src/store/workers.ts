import { desc, eq, gte, sql } from "drizzle-orm";
import type { WorkerMetadata } from "../domain/worker";
import { nowTimestamp } from "./clock";
import type { Db } from "./db";
import { workers } from "./schema";

export type WorkerRow = typeof workers.$inferSelect;

/**
 * Registers an executor under `nodeId`, or re-registers it: `created_at` is
 * kept from the first registration, `info` replaced, and `registered_at` and
 * `heartbeat_at` set to now.
 */
export async function registerWorker(db: Db, nodeId: string, info: WorkerMetadata): Promise<void> {
  const now = nowTimestamp();
  await db
    .insert(workers)
    .values({ nodeId, info, createdAt: now, registeredAt: now, heartbeatAt: now })
    .onConflictDoUpdate({
      target: workers.nodeId,
      set: { info: sql`excluded.info`, registeredAt: sql`excluded.registered_at`, heartbeatAt: sql`excluded.heartbeat_at` },
    });
}

/** Records that worker `nodeId` is alive now; returns false when no such worker is registered. */
export async function heartbeatWorker(db: Db, nodeId: string): Promise<boolean> {
  const updated = await db.update(workers).set({ heartbeatAt: nowTimestamp() }).where(eq(workers.nodeId, nodeId)).returning({ id: workers.id });
  return updated.length > 0;
}

/** Every worker, newest registration first (id DESC), as the original lists them. */
export async function listWorkers(db: Db): Promise<WorkerRow[]> {
  return db.select().from(workers).orderBy(desc(workers.id));
}

export async function getWorker(db: Db, nodeId: string): Promise<WorkerRow | undefined> {
  const [row] = await db.select().from(workers).where(eq(workers.nodeId, nodeId));
  return row;
}

/** The node ids of the workers whose heartbeat is at most `maxAgeMs` old. */
export async function listLiveWorkerNodeIds(db: Db, maxAgeMs: number): Promise<string[]> {
  const since = new Date(Date.now() - maxAgeMs).toISOString();
  const rows = await db.select({ nodeId: workers.nodeId }).from(workers).where(gte(workers.heartbeatAt, since));
  return rows.map((row) => row.nodeId);
}
