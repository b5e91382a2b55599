/**
 * The verifier over a real mainnet block: 15,000,000 (London header layout, 348 transactions of types 0 and 2,
 * 719 logs), rebuilt as a node sends it from the original's three reference files (reference-block.ts).
 * Skipped where ../shared is absent.
 */
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyBlock } from "../../../src/domain/evm-verification/verify-block";
import { type ReferenceBlock, readReferenceBlock } from "../../support/reference-block";
import { REFERENCE_PARQUET_DIR } from "../../support/reference-parquet";

describe.skipIf(!existsSync(REFERENCE_PARQUET_DIR))("mainnet block 15,000,000", () => {
  let reference: ReferenceBlock;
  beforeAll(async () => {
    reference = await readReferenceBlock();
    expect(reference.block.transactions.length).toBe(348);
  });
  const copy = () => structuredClone(reference);

  it("its hash is keccak-256 of its London header; its receipts root and logs bloom are its receipts' and logs'", async () => {
    const verification = verifyBlock(reference.block, reference.receipts);
    expect(verification.layout).toBe("london");
    const fields = verification.discrepancies.map((d) => d.field);
    expect(fields).not.toContain("hash");
    expect(fields).not.toContain("receiptsRoot");
    expect(fields).not.toContain("logsBloom");
  });

  it("345 of its 348 transactions hash to their own hash; the other three had access lists, which the files do not hold", async () => {
    // The transactions table has no access_list column (it predates the original's cb3e71c9, amp-later.md B.7):
    // these three envelopes, and so the transactions root, cannot be rebuilt from the files. Anvil's blocks check
    // that root, for every transaction type.
    const verification = verifyBlock(reference.block, reference.receipts);
    expect(verification.discrepancies.map((d) => d.field)).toEqual(["transactions[5].hash", "transactions[7].hash", "transactions[124].hash", "transactionsRoot"]);
    for (const index of [5, 7, 124]) expect(reference.block.transactions[index]!.type).toBe("0x2");
  });

  const fieldsOf = (r: ReferenceBlock) => (verifyBlock(r.block, r.receipts)).discrepancies.map((d) => d.field);
  /** The three transactions with access lists and the root, as the unaltered block verifies. */
  const UNALTERED = ["transactions[5].hash", "transactions[7].hash", "transactions[124].hash", "transactionsRoot"];

  it.each([
    ["the header nonce", (r: ReferenceBlock) => (r.block.nonce = "0x0000000000000001"), ["hash"]],
    ["the base fee", (r: ReferenceBlock) => (r.block.baseFeePerGas = "0x1"), ["hash"]],
    ["a log's data", (r: ReferenceBlock) => ((r.receipts[2]!.logs as Record<string, unknown>[])[0]!.data = "0x"), ["receiptsRoot"]],
    // The block's bloom is nearly full: a changed topic's three bits are most likely set by some other log already.
    ["a log's topic", (r: ReferenceBlock) => (((r.receipts[2]!.logs as Record<string, unknown>[])[0]!.topics as string[])[0] = `0x${"00".repeat(32)}`), ["receiptsRoot"]],
    ["a receipt's status", (r: ReferenceBlock) => (r.receipts[0]!.status = "0x0"), ["receiptsRoot"]],
    ["a receipt's cumulative gas", (r: ReferenceBlock) => (r.receipts[300]!.cumulativeGasUsed = "0x1"), ["receiptsRoot"]],
  ])("%s altered is named", async (_, alter, expected) => {
    const altered = copy();
    alter(altered);
    // The header's hash is checked first, the receipts last.
    expect(fieldsOf(altered)).toEqual(expected[0] === "hash" ? [...expected, ...UNALTERED] : [...UNALTERED, ...expected]);
  });

  it("an EIP-1559 transaction's fee cap altered: its hash", async () => {
    const altered = copy();
    altered.block.transactions[0]!.maxFeePerGas = "0x1";
    expect(fieldsOf(altered)).toEqual(["transactions[0].hash", ...UNALTERED.slice(0, 2), "transactions", "transactionsRoot"]);
  });

  it("a legacy transaction's gas price altered: its hash", async () => {
    const altered = copy();
    const legacy = altered.block.transactions.findIndex((tx) => tx.type === "0x0");
    altered.block.transactions[legacy]!.gasPrice = "0x1";
    // Three wrong hashes are listed, in block order, the fourth counted.
    const listed = [5, 7, 124, legacy].sort((a, b) => a - b).slice(0, 3).map((i) => `transactions[${i}].hash`);
    expect(fieldsOf(altered)).toEqual([...listed, "transactions", "transactionsRoot"]);
  });
});
