/**
 * The shared Lodestar chain as the eth-beacon tests see it, read with `fetch`
 * only (Node or workerd), straight from the node: the oracle the client's
 * rows are compared with.
 */
import { beaconNodeUrl } from "./fault-control";

export interface RawSlot {
  slot: number;
  /** The `getBlockV2` JSON answer, or null when the node answered 404 (a skipped slot at or below its head). */
  block: Record<string, any> | null;
}

export interface BeaconChain {
  url: string;
  head: number;
  /** Every slot 0..=head as the node serves it now. */
  slots: RawSlot[];
}

async function getBlock(url: string, id: number | string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/eth/v2/beacon/blocks/${id}`, { headers: { accept: "application/json" } });
  return { status: response.status, body: await response.json() };
}

/** The head block's slot, straight from the node. */
export async function rawHead(url: string, id: "head" | "finalized" = "head"): Promise<number> {
  const { status, body } = await getBlock(url, id);
  if (status !== 200) throw new Error(`GET ${id}: HTTP ${status}`);
  return Number(body.data.message.slot);
}

/**
 * Waits (real slots pass: one a second) until the shared node's head is at
 * least `minHead` and some slot at or below it was skipped, then reads every
 * slot up to that head.
 */
export async function beaconChain(harnessUrl: string, minHead: number, timeoutMs = 120_000): Promise<BeaconChain> {
  const url = await beaconNodeUrl(harnessUrl);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const head = await rawHead(url);
    if (head >= minHead) {
      const slots: RawSlot[] = [];
      for (let slot = 0; slot <= head; slot++) {
        const { status, body } = await getBlock(url, slot);
        if (status !== 200 && status !== 404) throw new Error(`slot ${slot}: HTTP ${status}`);
        slots.push({ slot, block: status === 200 ? body : null });
      }
      if (slots.some((slot) => slot.block === null)) return { url, head, slots };
    }
    if (Date.now() > deadline) throw new Error(`the beacon node did not reach slot ${minHead} with a skipped slot within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Waits until the node has finalized a slot above 0 (about a minute after its genesis). */
export async function finalizedSlot(url: string, timeoutMs = 150_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const finalized = await rawHead(url, "finalized");
    if (finalized > 0) return finalized;
    if (Date.now() > deadline) throw new Error(`the beacon node finalized nothing within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** "0x…" hex of a byte column value, for comparing with the node's JSON. */
export function hexOf(value: unknown): string | null {
  if (value === null) return null;
  if (!(value instanceof Uint8Array)) throw new Error(`not bytes: ${String(value)}`);
  return `0x${Array.from(value, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
