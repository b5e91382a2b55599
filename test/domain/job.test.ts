import { describe, expect, it } from "vitest";
import {
  DELETE_STATUS_FILTERS,
  INITIAL_STATUS,
  JOB_STATUSES,
  JOB_TRANSITIONS,
  type JobStatus,
  TERMINAL_STATUSES,
  canTransition,
  dumpDescriptor,
  isTerminal,
  parseDumpDescriptor,
  parseJobStatus,
  statusesForDeleteFilter,
  stopOutcome,
} from "../../src/domain/job";

/** Reference §4.2, written out pair by pair. */
const ALLOWED: ReadonlyArray<[JobStatus, JobStatus]> = [
  ["SCHEDULED", "RUNNING"],
  ["SCHEDULED", "STOP_REQUESTED"],
  ["RUNNING", "STOP_REQUESTED"],
  ["STOP_REQUESTED", "STOPPING"],
  ["STOPPING", "STOPPED"],
  ["RUNNING", "COMPLETED"],
  ["SCHEDULED", "FAILED"],
  ["RUNNING", "FAILED"],
];

const allPairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as [JobStatus, JobStatus]));
const isAllowed = ([from, to]: [JobStatus, JobStatus]) => ALLOWED.some(([f, t]) => f === from && t === to);

describe("job statuses", () => {
  it("are the eight of the original", () => {
    expect([...JOB_STATUSES].sort()).toEqual(
      ["COMPLETED", "FAILED", "RUNNING", "SCHEDULED", "STOPPED", "STOPPING", "STOP_REQUESTED", "UNKNOWN"].sort(),
    );
  });
  it("start as SCHEDULED", () => {
    expect(INITIAL_STATUS).toBe("SCHEDULED");
  });
  it("are terminal exactly for COMPLETED, STOPPED and FAILED", () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(["COMPLETED", "FAILED", "STOPPED"]);
    for (const status of JOB_STATUSES) {
      expect(isTerminal(status)).toBe(["COMPLETED", "STOPPED", "FAILED"].includes(status));
    }
  });
});

describe("canTransition", () => {
  it.each(allPairs.filter(isAllowed))("allows %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });
  it.each(allPairs.filter((p) => !isAllowed(p)))("forbids %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });
  it("never leaves a terminal status", () => {
    for (const from of TERMINAL_STATUSES) for (const to of JOB_STATUSES) expect(canTransition(from, to)).toBe(false);
  });
  it("never enters or leaves UNKNOWN, and never re-enters SCHEDULED", () => {
    for (const other of JOB_STATUSES) {
      expect(canTransition("UNKNOWN", other)).toBe(false);
      expect(canTransition(other, "UNKNOWN")).toBe(false);
      expect(canTransition(other, "SCHEDULED")).toBe(false);
    }
  });
  it("lets a stopped-while-scheduled job reach STOPPED in three allowed steps", () => {
    const path: JobStatus[] = ["SCHEDULED", "STOP_REQUESTED", "STOPPING", "STOPPED"];
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });
  it("is data: every target lists its sources", () => {
    expect(Object.keys(JOB_TRANSITIONS).sort()).toEqual([...JOB_STATUSES].sort());
  });
});

describe("parseJobStatus", () => {
  it.each([...JOB_STATUSES])("reads %s", (status) => {
    expect(parseJobStatus(status)).toBe(status);
  });
  it("ignores case", () => {
    expect(parseJobStatus("running")).toBe("RUNNING");
    expect(parseJobStatus("Stop_Requested")).toBe("STOP_REQUESTED");
  });
  it("reads anything else as UNKNOWN", () => {
    for (const text of ["", "DONE", "RUNNING ", "stop-requested", "constructor", "toString"]) {
      expect(parseJobStatus(text)).toBe("UNKNOWN");
    }
  });
});

describe("stopOutcome", () => {
  it.each<[JobStatus, string]>([
    ["SCHEDULED", "request"],
    ["RUNNING", "request"],
    ["STOP_REQUESTED", "alreadyStopping"],
    ["STOPPING", "alreadyStopping"],
    ["COMPLETED", "alreadyTerminal"],
    ["STOPPED", "alreadyTerminal"],
    ["FAILED", "alreadyTerminal"],
    ["UNKNOWN", "conflict"],
  ])("%s → %s", (status, outcome) => {
    expect(stopOutcome(status)).toBe(outcome);
  });
});

describe("DELETE /jobs?status= filters", () => {
  it.each<[string, JobStatus[]]>([
    ["terminal", ["COMPLETED", "STOPPED", "FAILED"]],
    ["completed", ["COMPLETED"]],
    ["stopped", ["STOPPED"]],
    ["error", ["FAILED"]],
    ["Terminal", ["COMPLETED", "STOPPED", "FAILED"]],
    ["COMPLETED", ["COMPLETED"]],
    ["Stopped", ["STOPPED"]],
    ["ERROR", ["FAILED"]],
  ])("%s deletes %j", (filter, statuses) => {
    expect([...(statusesForDeleteFilter(filter) ?? [])].sort()).toEqual([...statuses].sort());
  });
  it.each([null, undefined, "", "failed", "FAILED", "all", "running", " terminal", "terminal,completed", "constructor", "__proto__", "hasOwnProperty"])(
    "rejects %j",
    (filter) => {
      expect(statusesForDeleteFilter(filter)).toBeNull();
    },
  );
  it("only ever deletes terminal statuses", () => {
    for (const statuses of Object.values(DELETE_STATUS_FILTERS)) for (const s of statuses) expect(isTerminal(s)).toBe(true);
  });
});

describe("dump job descriptor", () => {
  const job = {
    endBlock: { kind: "latestMinus", offset: 10 },
    maxWriters: 4,
    datasetNamespace: "_",
    datasetName: "eth_rpc",
    manifestHash: "a".repeat(64),
    verify: false,
  } as const;

  it("has the original's shape, end_block as a string", () => {
    expect(dumpDescriptor(job)).toEqual({
      Dump: { end_block: "-10", max_writers: 4, dataset_namespace: "_", dataset_name: "eth_rpc", manifest_hash: "a".repeat(64), verify: false },
    });
  });
  it("carries verify and the chosen worker_id through JSON", () => {
    const stored = JSON.parse(JSON.stringify(dumpDescriptor({ ...job, verify: true, workerId: "consumer-1a2b3c4d" })));
    expect(stored.Dump).toMatchObject({ verify: true, worker_id: "consumer-1a2b3c4d" });
    expect(parseDumpDescriptor(stored)).toEqual({ ok: true, job: { ...job, verify: true, workerId: "consumer-1a2b3c4d" } });
  });
  it("stores a continuous job's end_block as null", () => {
    expect(dumpDescriptor({ ...job, endBlock: { kind: "continuous" } }).Dump.end_block).toBeNull();
  });
  it.each([{ kind: "continuous" }, { kind: "latest" }, { kind: "absolute", block: 0 }, { kind: "absolute", block: 123 }, { kind: "latestMinus", offset: 1 }] as const)(
    "reads back what it writes through JSON (%j)",
    (endBlock) => {
      const stored = JSON.parse(JSON.stringify(dumpDescriptor({ ...job, endBlock })));
      expect(parseDumpDescriptor(stored)).toEqual({ ok: true, job: { ...job, endBlock } });
    },
  );
  it("defaults max_writers to 1, a missing end_block to continuous and a missing verify to false", () => {
    const parsed = parseDumpDescriptor({ Dump: { dataset_namespace: "_", dataset_name: "x", manifest_hash: "h" } });
    expect(parsed).toEqual({
      ok: true,
      job: { endBlock: { kind: "continuous" }, maxWriters: 1, datasetNamespace: "_", datasetName: "x", manifestHash: "h", verify: false },
    });
  });
  it.each([
    [null, "expected"],
    ["Dump", "expected"],
    [[], "expected"],
    [{ Dump: [] }, "expected"],
    [{ dump: {} }, "expected"],
    [{ Dump: { end_block: 5, dataset_namespace: "_", dataset_name: "x", manifest_hash: "h" } }, "null or a string"],
    [{ Dump: { end_block: "soon", dataset_namespace: "_", dataset_name: "x", manifest_hash: "h" } }, "soon"],
    [{ Dump: { max_writers: 0, dataset_namespace: "_", dataset_name: "x", manifest_hash: "h" } }, "max_writers"],
    [{ Dump: { max_writers: "2", dataset_namespace: "_", dataset_name: "x", manifest_hash: "h" } }, "max_writers"],
    [{ Dump: { dataset_namespace: "_", dataset_name: "x" } }, "manifest_hash"],
    [{ Dump: { verify: "yes", dataset_namespace: "_", dataset_name: "x", manifest_hash: "h" } }, "verify"],
    [{ Dump: { dataset_namespace: 1, dataset_name: "x", manifest_hash: "h" } }, "dataset_namespace"],
  ])("rejects %j", (value, expected) => {
    const parsed = parseDumpDescriptor(value);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(expected);
  });
});
