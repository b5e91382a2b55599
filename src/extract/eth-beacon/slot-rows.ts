/**
 * One beacon block (a `getBlockV2` JSON answer) or one skipped slot as a row
 * of the `blocks` table. The answer is checked as it is read: a field of the
 * wrong shape is an invalid response, retried like any other transient
 * failure, never a row with a made-up value.
 */
import { ETH_BEACON_KIND_TABLES } from "../../domain/dataset-kinds/eth-beacon";
import { RetryableError } from "../../domain/errors";
import { bytesToHex, hexToFixedBytes } from "../../domain/hex";
import type { BlockRef, ColumnValue, TableColumns } from "../block-source";

/** The hash of a skipped slot's BlockRef: it has no state root of its own. */
export const SKIPPED_SLOT_HASH = `0x${"0".repeat(64)}`;

const U64_MAX = 2n ** 64n - 1n;

/** A filled slot's columns, by name, and the hash it is linked by (its state root). */
export interface BeaconBlock {
  slot: number;
  stateRoot: string;
  values: Readonly<Record<string, ColumnValue>>;
}

export function emptyBlocksColumns(): TableColumns {
  return Object.fromEntries(ETH_BEACON_KIND_TABLES[0]!.fields.map((field) => [field.name, []]));
}

/** Appends the row of `slot`: the block's values, or nulls when the slot was skipped. */
export function appendSlotRow(columns: TableColumns, slot: number, block: BeaconBlock | null): BlockRef {
  for (const [name, values] of Object.entries(columns)) {
    if (name === "_block_num" || name === "block_num") values.push(BigInt(slot));
    else values.push(block === null ? null : (block.values[name] ?? null));
  }
  return { number: slot, hash: block === null ? SKIPPED_SLOT_HASH : block.stateRoot, parentHash: null };
}

/** Reads the fields of `/eth/v2/beacon/blocks/{slot}` the table keeps (amp-later A.3). */
export function parseBeaconBlock(answer: unknown, expectedSlot: number | null, host: string): BeaconBlock {
  const where = expectedSlot === null ? `the block from ${host}` : `slot ${expectedSlot} from ${host}`;
  const field = (path: string): unknown => {
    let value: unknown = answer;
    for (const key of path.split(".")) value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    return value;
  };
  const invalid = (path: string, what: string) => new RetryableError("invalid_response", `${where}: ${path} ${what}`);
  const bytes = (path: string, length: number): Uint8Array => {
    try {
      return hexToFixedBytes(field(path), length);
    } catch {
      throw invalid(path, `is not 0x and ${length} bytes of hex`);
    }
  };
  const u64 = (path: string): bigint => {
    const value = field(path);
    if (typeof value !== "string" || !/^\d{1,20}$/.test(value) || BigInt(value) > U64_MAX) throw invalid(path, "is not a decimal u64");
    return BigInt(value);
  };
  const version = field("version");
  if (typeof version !== "string") throw invalid("version", "is not a string");
  const slot = u64("data.message.slot");
  if (slot > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid("data.message.slot", "is beyond the slots this engine numbers");
  if (expectedSlot !== null && slot !== BigInt(expectedSlot)) throw invalid("data.message.slot", `is ${slot}`);
  const stateRoot = bytes("data.message.state_root", 32);
  return {
    slot: Number(slot),
    stateRoot: bytesToHex(stateRoot),
    values: {
      version,
      signature: bytes("data.signature", 96),
      proposer_index: u64("data.message.proposer_index"),
      parent_root: bytes("data.message.parent_root", 32),
      state_root: stateRoot,
      randao_reveal: bytes("data.message.body.randao_reveal", 96),
      eth1_data_deposit_root: bytes("data.message.body.eth1_data.deposit_root", 32),
      eth1_data_deposit_count: u64("data.message.body.eth1_data.deposit_count"),
      eth1_data_block_hash: bytes("data.message.body.eth1_data.block_hash", 32),
      graffiti: bytes("data.message.body.graffiti", 32),
    },
  };
}
