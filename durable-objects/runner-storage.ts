/**
 * What a JobRunner keeps in its own Durable Object storage: the job's setup,
 * its run state, the steps it handed out and the segments (files) of its
 * tables. SQLite tables for the lists that grow, key-value for the rest.
 */
import type { BlockRange } from "../src/domain/block-range";
import type { Invalidation, SizedSegment } from "../src/domain/canonical-chain";
import type { PlanTable } from "../src/domain/job-plan";
import type { KindTable } from "../src/domain/dataset-kinds/kind-definition";
import type { EndBlock } from "../src/domain/end-block";
import type { JobStatus } from "../src/domain/job";
import type { DatasetKind } from "../src/domain/manifest/kinds";
import type { JobProvider, PinnedDependency, SourceHints } from "../src/domain/step-protocol";
import type { JobLocation } from "../src/store/scheduling";

/** Fixed facts about the job, read once from D1 and R2 when it starts. */
export interface RunnerJob {
  jobId: number;
  manifestHash: string;
  /** `namespace/name`, for log lines. */
  dataset: string;
  datasetKind: DatasetKind;
  /** The tables the kind writes, with their columns: decided once, from the manifest, when the job starts. */
  kindTables: readonly KindTable[];
  /**
   * The provider the job extracts from, as registered (`${VAR}` placeholders
   * unresolved): chosen once, when the job goes RUNNING, and kept for the
   * job's life even if the registration changes. Null until then.
   */
  provider: JobProvider | null;
  /**
   * The datasets the job reads instead of a provider, by alias, each pinned to a manifest when the job
   * started (a derived dataset's dependencies); empty for a raw kind. Absent in jobs saved before it existed.
   */
  dependencies?: Record<string, PinnedDependency>;
  network: string;
  startBlock: number;
  finalizedOnly: boolean;
  /** Deploy's `verify`: every step checks what it fetched before it writes. */
  verify: boolean;
  endBlock: EndBlock;
  parallelism: number;
  stepSize: number;
  /** Tries of a failing step or probe before the job fails. */
  maxAttempts: number;
  /** Milliseconds between head reads while the job waits for new blocks; absent in jobs started before it was a setting. */
  headPollMs?: number;
  locations: JobLocation[];
  /**
   * A job a rebuild deployed (`POST .../partitions/rebuild`): the ranges it was deployed for, and it extracts
   * nothing else. Absent for other jobs.
   */
  rebuildRanges?: BlockRange[];
}

export interface PendingProbe {
  lease: string;
  /** When the probe is given up on and sent again (ms since epoch). */
  deadline: number;
  blocks: number[];
  attempt: number;
}

/** Everything about the run that changes. */
export interface RunnerState {
  status: JobStatus;
  /** The resolved end block: a number, null for a continuous job, undefined until resolved. */
  end?: number | null;
  head: number | null;
  /** When the head was last read (ms since epoch); 0 = never. */
  headAt: number;
  probe: PendingProbe | null;
  /** When the next probe is due after a failed one (ms since epoch). */
  probeNotBefore: number;
  /** Probes failed in a row. */
  probeFailures: number;
  /** Covered ranges to extract again, after a reorg behind the cursor. */
  forced: BlockRange[];
  /** Ranges to extract again where invalidated files do not count, until they count (absent: none). */
  rebuild?: BlockRange[];
  /**
   * By step id: the newest invalidation id the runner knew of when it handed the step to a consumer (the lowest
   * over the step's claims). A file such a step writes after a newer invalidation of its blocks was written
   * from what the step fetched before it, and is invalidated too. Absent in states saved before it existed.
   */
  claimMarks?: Record<number, number>;
  /** Block hashes read from the node for the tip check. */
  tipHashes: Record<number, string>;
  /** Blocks the tip check still needs hashes for. */
  tipBlocks: number[];
  lastHeartbeat: number;
  /** Id of the next step handed out; ids are never reused within a job. */
  nextStepId: number;
  /** What steps learned about each provider, by provider name (absent in states saved before it existed). */
  sourceHints?: Record<string, SourceHints>;
}

/**
 * `leased`: handed to the queue, not claimed yet; `claimed`: a consumer is
 * running it; `waiting`: failed, to be handed out again at `deadline`.
 */
export type StepState = "leased" | "claimed" | "waiting";

const STEP_STATES: readonly StepState[] = ["leased", "claimed", "waiting"];

export interface RunnerStep {
  id: number;
  range: BlockRange;
  attempt: number;
  lease: string;
  state: StepState;
  /** Lease expiry for a leased or claimed step; retry time for a waiting one (ms since epoch). */
  deadline: number;
}

interface StepRow extends Record<string, SqlStorageValue> {
  id: number;
  start: number;
  end: number;
  attempt: number;
  lease: string;
  state: string;
  deadline: number;
}

/** A location's files and invalidations (with their D1 ids), as the runner holds them. */
export interface RunnerTable extends PlanTable {
  readonly segments: SizedSegment[];
  readonly invalidations: (Invalidation & { id: number })[];
}

interface InvalidationRow extends Record<string, SqlStorageValue> {
  id: number;
  location_id: number;
  start: number;
  end: number;
  ceiling: number;
}

interface SegmentRow extends Record<string, SqlStorageValue> {
  file_id: number;
  location_id: number;
  start: number;
  end: number;
  hash: string;
  prev_hash: string | null;
  network: string;
  size: number | null;
}

const toStep = (row: StepRow): RunnerStep => ({
  id: row.id,
  range: { start: row.start, end: row.end },
  attempt: row.attempt,
  lease: row.lease,
  state: STEP_STATES.find((state) => state === row.state) ?? "leased",
  deadline: row.deadline,
});

export class RunnerStorage {
  constructor(private readonly storage: DurableObjectStorage) {
    storage.sql.exec(`CREATE TABLE IF NOT EXISTS steps (
      id INTEGER PRIMARY KEY, start INTEGER NOT NULL, end INTEGER NOT NULL, attempt INTEGER NOT NULL,
      lease TEXT NOT NULL, state TEXT NOT NULL, deadline INTEGER NOT NULL)`);
    storage.sql.exec(`CREATE TABLE IF NOT EXISTS segments (
      file_id INTEGER PRIMARY KEY, location_id INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
      hash TEXT NOT NULL, prev_hash TEXT, network TEXT NOT NULL, size INTEGER)`);
    storage.sql.exec(`CREATE TABLE IF NOT EXISTS invalidations (
      id INTEGER PRIMARY KEY, location_id INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, ceiling INTEGER NOT NULL)`);
  }

  job(): Promise<RunnerJob | undefined> {
    return this.storage.get<RunnerJob>("job");
  }

  state(): Promise<RunnerState | undefined> {
    return this.storage.get<RunnerState>("state");
  }

  async save(job: RunnerJob, state: RunnerState): Promise<void> {
    await this.storage.put({ job, state });
  }

  async saveState(state: RunnerState): Promise<void> {
    await this.storage.put("state", state);
  }

  /**
   * Rebuild ranges handed to the job before its runner took charge of it (a rebuild that found the job a
   * concurrent rebuild or deploy had just scheduled): `start` takes them into the job's first state.
   */
  async pendingRebuild(): Promise<BlockRange[]> {
    return (await this.storage.get<BlockRange[]>("pendingRebuild")) ?? [];
  }

  async savePendingRebuild(ranges: readonly BlockRange[]): Promise<void> {
    await this.storage.put("pendingRebuild", [...ranges]);
  }

  /** The job and its first state, with the pending rebuild ranges taken into it, in one write. */
  async saveStarted(job: RunnerJob, state: RunnerState): Promise<void> {
    await this.storage.transaction(async (txn) => {
      await txn.put({ job, state });
      await txn.delete("pendingRebuild");
    });
  }

  steps(): RunnerStep[] {
    return this.storage.sql.exec<StepRow>("SELECT * FROM steps ORDER BY start").toArray().map(toStep);
  }

  step(id: number): RunnerStep | undefined {
    const [row] = this.storage.sql.exec<StepRow>("SELECT * FROM steps WHERE id = ?", id).toArray();
    return row && toStep(row);
  }

  putStep(step: RunnerStep): void {
    this.storage.sql.exec(
      "INSERT OR REPLACE INTO steps (id, start, end, attempt, lease, state, deadline) VALUES (?, ?, ?, ?, ?, ?, ?)",
      step.id,
      step.range.start,
      step.range.end,
      step.attempt,
      step.lease,
      step.state,
      step.deadline,
    );
  }

  deleteStep(id: number): void {
    this.storage.sql.exec("DELETE FROM steps WHERE id = ?", id);
  }

  clearSteps(): void {
    this.storage.sql.exec("DELETE FROM steps");
  }

  segments(locationId: number): SizedSegment[] {
    return this.storage.sql
      .exec<SegmentRow>("SELECT * FROM segments WHERE location_id = ? ORDER BY file_id", locationId)
      .toArray()
      .map((row) => ({
        fileId: row.file_id,
        range: { start: row.start, end: row.end },
        hash: row.hash,
        prevHash: row.prev_hash,
        network: row.network,
        objectSize: row.size,
      }));
  }

  /** The invalidations of a location as last read from D1, oldest first. */
  invalidations(locationId: number): (Invalidation & { id: number })[] {
    return this.storage.sql
      .exec<InvalidationRow>("SELECT * FROM invalidations WHERE location_id = ? ORDER BY id", locationId)
      .toArray()
      .map((row) => ({ id: row.id, range: { start: row.start, end: row.end }, fileIdCeiling: row.ceiling }));
  }

  /** Adds invalidations read from D1 (rows are never changed there, so one already here is the same). */
  addInvalidations(locationId: number, invalidations: readonly (Invalidation & { id: number })[]): void {
    for (const i of invalidations) {
      this.storage.sql.exec(
        "INSERT OR IGNORE INTO invalidations (id, location_id, start, end, ceiling) VALUES (?, ?, ?, ?, ?)",
        i.id,
        locationId,
        i.range.start,
        i.range.end,
        i.fileIdCeiling,
      );
    }
  }

  /** A location's files and invalidations, which its canonical chain and missing blocks are computed from. */
  table(locationId: number): RunnerTable {
    return { segments: this.segments(locationId), invalidations: this.invalidations(locationId) };
  }

  addSegment(locationId: number, segment: SizedSegment): void {
    this.storage.sql.exec(
      "INSERT OR IGNORE INTO segments (file_id, location_id, start, end, hash, prev_hash, network, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      segment.fileId,
      locationId,
      segment.range.start,
      segment.range.end,
      segment.hash,
      segment.prevHash,
      segment.network,
      segment.objectSize,
    );
  }
}
