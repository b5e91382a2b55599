/**
 * A block's hash recomputed from its header fields: keccak-256 of the RLP
 * list of the header, whose length grew with the forks. Each fork appended
 * fields at the end, so the layout is the longest run of those optional
 * fields that the node sent, in order; a later one without an earlier one
 * is no layout of any fork.
 */
import { RLP } from "@ethereumjs/rlp";
import { keccak256 } from "./keccak";
import { data, fixed, isAbsent, quantity, type RpcObject, UnreadableFieldError } from "./rpc-values";

/** The header of every fork up to Berlin: 15 fields. */
function baseFields(block: RpcObject): Uint8Array[] {
  return [
    fixed(block, "parentHash", 32),
    fixed(block, "sha3Uncles", 32),
    fixed(block, "miner", 20),
    fixed(block, "stateRoot", 32),
    fixed(block, "transactionsRoot", 32),
    fixed(block, "receiptsRoot", 32),
    fixed(block, "logsBloom", 256),
    quantity(block, "difficulty"),
    quantity(block, "number"),
    quantity(block, "gasLimit"),
    quantity(block, "gasUsed"),
    quantity(block, "timestamp"),
    data(block, "extraData"),
    fixed(block, "mixHash", 32),
    // The header nonce is 8 bytes, not an integer: RLP keeps its leading zeros.
    fixed(block, "nonce", 8),
  ];
}

interface ForkFields {
  readonly fork: HeaderLayout;
  readonly fields: readonly { readonly key: string; readonly read: (block: RpcObject) => Uint8Array }[];
}

/** The fields each fork appended, in order. */
const FORK_FIELDS: readonly ForkFields[] = [
  { fork: "london", fields: [{ key: "baseFeePerGas", read: (block) => quantity(block, "baseFeePerGas") }] },
  { fork: "shanghai", fields: [{ key: "withdrawalsRoot", read: (block) => fixed(block, "withdrawalsRoot", 32) }] },
  {
    fork: "cancun",
    fields: [
      { key: "blobGasUsed", read: (block) => quantity(block, "blobGasUsed") },
      { key: "excessBlobGas", read: (block) => quantity(block, "excessBlobGas") },
      { key: "parentBeaconBlockRoot", read: (block) => fixed(block, "parentBeaconBlockRoot", 32) },
    ],
  },
  { fork: "prague", fields: [{ key: "requestsHash", read: (block) => fixed(block, "requestsHash", 32) }] },
];

/** The header layouts: the fork that last added fields to it. */
export type HeaderLayout = "pre-london" | "london" | "shanghai" | "cancun" | "prague";

export interface HeaderEncoding {
  readonly layout: HeaderLayout;
  readonly rlp: Uint8Array;
}

/** The RLP of a block's header, in the layout its fields say. Throws UnreadableFieldError for a field that does not parse or an impossible layout. */
export function encodeHeader(block: RpcObject): HeaderEncoding {
  const fields = baseFields(block);
  let layout: HeaderLayout = "pre-london";
  let missing: string | null = null;
  for (const fork of FORK_FIELDS) {
    for (const field of fork.fields) {
      if (isAbsent(block[field.key])) {
        missing ??= field.key;
        continue;
      }
      if (missing !== null) throw new UnreadableFieldError(field.key, `present without ${missing}: no fork's header has that layout`);
      fields.push(field.read(block));
    }
    if (missing === null) layout = fork.fork;
  }
  return { layout, rlp: RLP.encode(fields) };
}

/** keccak-256 of the header's RLP: the block hash the header implies. */
export function headerHash(encoding: HeaderEncoding): Uint8Array {
  return keccak256(encoding.rlp);
}
