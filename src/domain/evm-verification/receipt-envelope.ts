/**
 * A receipt as the bytes its block's receipts trie holds, rebuilt from a
 * JSON-RPC receipt: RLP of [status (or, before Byzantium, the post-state
 * root), cumulative gas used, logs bloom, logs], each log [address, topics,
 * data]; typed transactions' receipts are prefixed with the type byte. The
 * bloom is computed from the logs, not taken from the node, so the receipts
 * root checks the logs that become rows.
 */
import { RLP, type Input } from "@ethereumjs/rlp";
import { BLOOM_BYTES, type BloomBits } from "./logs-bloom";
import { array, data, fixed, isAbsent, object, quantity, type RpcObject } from "./rpc-values";

export interface ReceiptEncoding {
  readonly envelope: Uint8Array;
  /** The bloom of the receipt's logs. */
  readonly bloom: Uint8Array;
}

/**
 * The envelope of `receipt`, of a transaction of type `type`; `where` ("receipts[3].") prefixes the names of fields
 * that do not parse. `bits` hashes the logs' addresses and topics for the bloom (one per block).
 */
export function encodeReceipt(receipt: RpcObject, type: number, where: string, bits: BloomBits): ReceiptEncoding {
  const bloom = new Uint8Array(BLOOM_BYTES);
  const logs: Input[] = array(receipt, "logs", where).map((value, i) => {
    const at = `${where}logs[${i}]`;
    const log = object(value, at);
    const address = fixed(log, "address", 20, `${at}.`);
    const topics = array(log, "topics", `${at}.`).map((topic, t) => fixed({ [`${at}.topics[${t}]`]: topic }, `${at}.topics[${t}]`, 32));
    // fixed() checked them: they are hex strings.
    bits.add(bloom, address, log.address as string);
    topics.forEach((topic, t) => bits.add(bloom, topic, (log.topics as readonly string[])[t]!));
    return [address, topics, data(log, "data", `${at}.`)];
  });
  // EIP-658 status since Byzantium; before it the post-transaction state root.
  const outcome = isAbsent(receipt.status) ? fixed(receipt, "root", 32, where) : quantity(receipt, "status", where);
  const body = RLP.encode([outcome, quantity(receipt, "cumulativeGasUsed", where), bloom, logs]);
  if (type === 0) return { envelope: body, bloom };
  const envelope = new Uint8Array(body.length + 1);
  envelope[0] = type;
  envelope.set(body, 1);
  return { envelope, bloom };
}
