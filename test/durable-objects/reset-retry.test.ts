/**
 * Calls cut off by a Durable Object's reset are sent again on a fresh stub (durable-objects/reset-retry.ts), and
 * nothing else is: over stand-in stubs that fail as workerd's do, and over a real JobRunner stub.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { jobRunnerStub } from "../../durable-objects/job-runner";
import { isObjectReset, retryingResets } from "../../durable-objects/reset-retry";

const reset = () => Object.assign(new Error("Durable Object reset because its code was updated."), { retryable: true });

/** Stubs whose `answer` throws the given errors in turn (one per stub made), then answers with the stub's number. */
function standIns(failures: Error[]) {
  const made: number[] = [];
  const calls: unknown[][] = [];
  const fresh = () => {
    const number = made.length + 1;
    made.push(number);
    return {
      label: `stub ${number}`,
      async answer(...args: unknown[]): Promise<number> {
        calls.push(args);
        const failure = failures[number - 1];
        if (failure) throw failure;
        return number;
      },
    };
  };
  return { stub: retryingResets(fresh), made, calls };
}

describe("retryingResets", () => {
  it("sends a call again on a fresh stub after a reset, with the same arguments", async () => {
    const { stub, made, calls } = standIns([reset()]);
    expect(await stub.answer(7, "x")).toBe(2);
    expect(made).toEqual([1, 2]);
    expect(calls).toEqual([[7, "x"], [7, "x"]]);
  });

  it("also sends again after the local test runtime's reset, which carries no flag", async () => {
    const local = new Error("/project/src/index.ts changed, invalidating this Durable Object. Please retry the `DurableObjectStub#fetch()` call.");
    const { stub, made } = standIns([local]);
    expect(await stub.answer()).toBe(2);
    expect(made).toEqual([1, 2]);
  });

  it("gives up after three attempts with the reset's error", async () => {
    const { stub, made } = standIns([reset(), reset(), reset(), reset()]);
    await expect(stub.answer()).rejects.toMatchObject({ retryable: true });
    expect(made).toHaveLength(3);
  });

  it("does not repeat an overloaded object's error, or any other", async () => {
    const overloaded = Object.assign(new Error("Durable Object is overloaded."), { retryable: true, overloaded: true });
    for (const failure of [overloaded, new Error("the runner refused"), Object.assign(new Error("no"), { retryable: false })]) {
      const { stub, made } = standIns([failure]);
      await expect(stub.answer()).rejects.toBe(failure);
      expect(made).toHaveLength(1);
    }
    expect(isObjectReset("retryable")).toBe(false);
    expect(isObjectReset(null)).toBe(false);
  });

  it("leaves members that are not methods as they are, and is not a thenable", async () => {
    const { stub } = standIns([]);
    expect(stub.label).toBe("stub 1");
    expect((stub as unknown as { then?: unknown }).then).toBeUndefined();
    expect(await Promise.resolve(stub)).toBe(stub);
  });

  it("reaches a real JobRunner through the wrapped stub", async () => {
    // a runner holding no job has no target
    expect(await jobRunnerStub(env.JOB_RUNNER, 987_654).target()).toBeNull();
  });
});
