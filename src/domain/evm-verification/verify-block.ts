/**
 * Checks a block as a JSON-RPC node sent it (eth_getBlockByNumber with full
 * transactions, and its receipts in transaction order) against itself, before
 * any of it becomes rows: the hash against keccak-256 of the header's RLP, the
 * transactions and receipts roots against tries rebuilt from the transactions
 * and receipts, each transaction's hash against its envelope, and the logs
 * bloom against the logs. What it cannot catch: a node that makes up a whole
 * consistent block (that takes consensus), and fields outside these
 * commitments (a transaction's `from`, which needs a signature recovery; logs'
 * indexes and block references, checked when rows are built).
 */
import { keccak256 } from "./keccak";
import { bytesToHex } from "../hex";
import { type HeaderLayout, encodeHeader, headerHash } from "./block-header";
import { BLOOM_BYTES, BloomBits, mergeBloom } from "./logs-bloom";
import { orderedTrieRoot } from "./ordered-trie";
import { encodeReceipt } from "./receipt-envelope";
import { array, fixed, object, type RpcObject, UnreadableFieldError } from "./rpc-values";
import { encodeTransaction, transactionType } from "./transaction-envelope";

/** One thing about a block that does not add up: the field (a header field, or `transactions[3].hash`) and how. */
export interface BlockDiscrepancy {
  readonly field: string;
  readonly detail: string;
}

export interface BlockVerification {
  /** The header layout the block's fields make, null when the header did not parse. */
  readonly layout: HeaderLayout | null;
  /** Empty when the block is what its hash says. */
  readonly discrepancies: readonly BlockDiscrepancy[];
}

/** How many transaction hashes a failed verification lists at most: one bad field usually breaks only one. */
const MAX_LISTED_HASHES = 3;

export function verifyBlock(blockValue: unknown, receiptValues: readonly unknown[]): BlockVerification {
  const discrepancies: BlockDiscrepancy[] = [];
  const unreadable = (error: unknown) => {
    if (!(error instanceof UnreadableFieldError)) throw error;
    discrepancies.push({ field: error.field, detail: `cannot be verified: ${error.message}` });
  };
  let block: RpcObject;
  try {
    block = object(blockValue, "block");
  } catch (error) {
    unreadable(error);
    return { layout: null, discrepancies };
  }
  const compare = (field: string, computed: Uint8Array, what: string) => {
    try {
      const reported = fixed(block, field, computed.length);
      if (!equalBytes(computed, reported)) discrepancies.push({ field, detail: `computed ${bytesToHex(computed)} ${what}, the node sent ${bytesToHex(reported)}` });
    } catch (error) {
      unreadable(error);
    }
  };

  let layout: HeaderLayout | null = null;
  try {
    const header = encodeHeader(block);
    layout = header.layout;
    compare("hash", headerHash(header), `from the ${header.layout} header`);
  } catch (error) {
    unreadable(error);
  }

  let transactions: readonly RpcObject[] = [];
  let types: number[] = [];
  try {
    transactions = array(block, "transactions").map((tx, i) => object(tx, `transactions[${i}]`));
    types = transactions.map((tx, i) => transactionType(tx, `transactions[${i}].`));
    const envelopes = transactions.map((tx, i) => encodeTransaction(tx, `transactions[${i}].`));
    const wrongHashes: BlockDiscrepancy[] = [];
    envelopes.forEach((envelope, i) => {
      const computed = bytesToHex(keccak256(envelope));
      const reported = transactions[i]!.hash;
      if (typeof reported !== "string" || reported.toLowerCase() !== computed) {
        wrongHashes.push({ field: `transactions[${i}].hash`, detail: `computed ${computed} from its fields, the node sent ${String(reported)}` });
      }
    });
    discrepancies.push(...wrongHashes.slice(0, MAX_LISTED_HASHES));
    if (wrongHashes.length > MAX_LISTED_HASHES) {
      discrepancies.push({ field: "transactions", detail: `${wrongHashes.length - MAX_LISTED_HASHES} more transactions whose hash is not their fields'` });
    }
    compare("transactionsRoot", orderedTrieRoot(envelopes), `from ${envelopes.length} transactions`);
  } catch (error) {
    unreadable(error);
  }

  try {
    if (receiptValues.length !== transactions.length) {
      discrepancies.push({ field: "receipts", detail: `${receiptValues.length} receipts for ${transactions.length} transactions` });
    } else {
      const bloom = new Uint8Array(BLOOM_BYTES);
      const bits = new BloomBits();
      const envelopes = receiptValues.map((value, i) => {
        const receipt = encodeReceipt(object(value, `receipts[${i}]`), types[i] ?? 0, `receipts[${i}].`, bits);
        mergeBloom(bloom, receipt.bloom);
        return receipt.envelope;
      });
      compare("receiptsRoot", orderedTrieRoot(envelopes), `from ${envelopes.length} receipts`);
      compare("logsBloom", bloom, "from the receipts' logs");
    }
  } catch (error) {
    unreadable(error);
  }
  return { layout, discrepancies };
}

/** "transactionsRoot computed 0x… from 3 transactions, the node sent 0x…; …", for a job's failure reason. */
export function describeDiscrepancies(discrepancies: readonly BlockDiscrepancy[]): string {
  return discrepancies.map((d) => `${d.field} ${d.detail}`).join("; ");
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
