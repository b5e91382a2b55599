import { describe, expect, it } from "vitest";
import type { EndBlock } from "../../src/domain/end-block";
import { type RunnerTarget, tableTargetEnd } from "../../src/domain/table-target";

const absolute = (block: number): EndBlock => ({ kind: "absolute", block });
const continuous: EndBlock = { kind: "continuous" };
const latest: EndBlock = { kind: "latest" };
const runner = (target: Partial<RunnerTarget>): RunnerTarget => ({ continuous: false, endBlock: null, head: null, ...target });

describe("tableTargetEnd", () => {
  it("takes the end its heading job's runner resolved, before any chain head", () => {
    expect(tableTargetEnd({ job: { endBlock: latest, runner: runner({ endBlock: 59, head: 80 }) }, chainHead: 120, startBlock: 0 })).toBe(59);
  });

  it("takes the head a continuous job's runner read last, or the manifest's chain head before its first read", () => {
    expect(tableTargetEnd({ job: { endBlock: continuous, runner: runner({ continuous: true, head: 77 }) }, chainHead: 70, startBlock: 0 })).toBe(77);
    expect(tableTargetEnd({ job: { endBlock: continuous, runner: runner({ continuous: true }) }, chainHead: 70, startBlock: 0 })).toBe(70);
    expect(tableTargetEnd({ job: { endBlock: continuous, runner: null }, chainHead: null, startBlock: 0 })).toBeNull();
  });

  it("reads the descriptor's end when the runner holds nothing or has not resolved it", () => {
    expect(tableTargetEnd({ job: { endBlock: absolute(100), runner: null }, chainHead: 40, startBlock: 0 })).toBe(100);
    expect(tableTargetEnd({ job: { endBlock: latest, runner: runner({}) }, chainHead: 40, startBlock: 0 })).toBe(40);
    expect(tableTargetEnd({ job: { endBlock: { kind: "latestMinus", offset: 5 }, runner: null }, chainHead: 40, startBlock: 0 })).toBe(35);
    // Unresolvable without a head: nothing is known.
    expect(tableTargetEnd({ job: { endBlock: latest, runner: null }, chainHead: null, startBlock: 0 })).toBeNull();
  });

  it("falls back to the chain head when the job's end cannot be resolved or there is no job", () => {
    // -50 below a head of 40 names no block (the job would fail to start): the head is what is known.
    expect(tableTargetEnd({ job: { endBlock: { kind: "latestMinus", offset: 50 }, runner: null }, chainHead: 40, startBlock: 0 })).toBe(40);
    expect(tableTargetEnd({ job: null, chainHead: 40, startBlock: 0 })).toBe(40);
    expect(tableTargetEnd({ job: null, chainHead: null, startBlock: 0 })).toBeNull();
  });
});
