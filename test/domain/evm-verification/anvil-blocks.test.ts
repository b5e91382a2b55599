/**
 * The verifier over real blocks: anvil's, as its JSON-RPC answers them, in the header layout of each
 * hardfork anvil runs (`--hardfork`), and with one field altered at a time.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type AnvilNode, type LayoutFork, seedForkChain, startAnvil } from "../../support/anvil";
import { verifyBlock } from "../../../src/domain/evm-verification/verify-block";
import type { HeaderLayout } from "../../../src/domain/evm-verification/block-header";

type Json = Record<string, unknown>;

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return ((await response.json()) as { result: unknown }).result;
}

async function fetchBlock(url: string, number: number): Promise<{ block: Json & { transactions: Json[] }; receipts: Json[] }> {
  const tag = `0x${number.toString(16)}`;
  const block = (await rpc(url, "eth_getBlockByNumber", [tag, true])) as Json & { transactions: Json[] };
  const receipts = block.transactions.length > 0 ? ((await rpc(url, "eth_getBlockReceipts", [tag])) as Json[]) : [];
  return { block, receipts };
}

const fields = (block: unknown, receipts: readonly unknown[]) => (verifyBlock(block, receipts)).discrepancies.map((d) => d.field);

describe("anvil's blocks", () => {
  const { anvilUrl, chain } = inject("evmRpcHarness");

  it("every block of the shared test chain (Prague layout) verifies, but anvil's genesis, whose receiptsRoot is zero", async () => {
    for (let number = 1; number <= chain.head; number++) {
      const { block, receipts } = await fetchBlock(anvilUrl, number);
      const verification = verifyBlock(block, receipts);
      expect(verification.discrepancies, `block ${number}`).toEqual([]);
      expect(verification.layout).toBe("prague");
    }
    // anvil writes 32 zero bytes for its genesis block's receipts root, where no receipts make the empty trie's root.
    const genesis = await fetchBlock(anvilUrl, 0);
    const verification = verifyBlock(genesis.block, genesis.receipts);
    expect(verification.discrepancies).toEqual([
      { field: "receiptsRoot", detail: expect.stringMatching(/^computed 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421 from 0 receipts, the node sent 0x0{64}$/) },
    ]);
  });

  describe("per hardfork", () => {
    const forks: [LayoutFork, HeaderLayout][] = [
      ["berlin", "pre-london"],
      ["london", "london"],
      ["shanghai", "shanghai"],
      ["cancun", "cancun"],
    ];
    const nodes = new Map<LayoutFork, { node: AnvilNode; head: number }>();
    beforeAll(async () => {
      await Promise.all(
        forks.map(async ([fork]) => {
          const node = await startAnvil(["--hardfork", fork]);
          nodes.set(fork, { node, head: (await seedForkChain(node.url, fork)).head });
        }),
      );
    }, 120_000);
    afterAll(async () => {
      await Promise.all([...nodes.values()].map(({ node }) => node.stop()));
    });

    it.each(forks)("%s: every block after genesis verifies, in the %s header layout", async (fork, layout) => {
      const { node, head } = nodes.get(fork)!;
      let transactions = 0;
      for (let number = 1; number <= head; number++) {
        const { block, receipts } = await fetchBlock(node.url, number);
        transactions += block.transactions.length;
        const verification = verifyBlock(block, receipts);
        expect(verification.discrepancies, `block ${number}`).toEqual([]);
        expect(verification.layout).toBe(layout);
      }
      expect(transactions).toBeGreaterThan(20);
    });
  });

  describe("one altered field", () => {
    // The block with LOG0..LOG4 and one call with all five: six transactions, fifteen logs.
    let original: { block: Json & { transactions: Json[] }; receipts: Json[] };
    beforeAll(async () => {
      original = await fetchBlock(anvilUrl, chain.blocks.logs);
      expect(original.receipts.length).toBe(6);
    });
    const copy = () => structuredClone(original);
    const log = (receipts: Json[], receipt: number, index: number) => (receipts[receipt]!.logs as Json[])[index]!;
    const flip = (hex: unknown) => `${String(hex).slice(0, -1)}${String(hex).endsWith("0") ? "1" : "0"}`;

    it("leaves the block verified when nothing is altered", async () => {
      expect(fields(original.block, original.receipts)).toEqual([]);
    });

    it.each([
      ["a header field (gasUsed)", (b: Json) => (b.gasUsed = flip(b.gasUsed))],
      ["the extra data", (b: Json) => (b.extraData = "0x01")],
      ["the state root", (b: Json) => (b.stateRoot = flip(b.stateRoot))],
      ["the Prague requests hash, left out", (b: Json) => delete b.requestsHash],
    ])("%s: the hash", async (_, alter) => {
      const { block, receipts } = copy();
      alter(block);
      expect(fields(block, receipts)).toEqual(["hash"]);
    });

    it("a transaction's value: its hash and the transactions root", async () => {
      const { block, receipts } = copy();
      block.transactions[3]!.value = "0x1";
      expect(fields(block, receipts)).toEqual(["transactions[3].hash", "transactionsRoot"]);
    });

    it("the header's transactions root: the hash and the root", async () => {
      const { block, receipts } = copy();
      block.transactionsRoot = flip(block.transactionsRoot);
      expect(fields(block, receipts)).toEqual(["hash", "transactionsRoot"]);
    });

    it.each([
      ["a log's data", (r: Json[]) => (log(r, 5, 2).data = "0x00")],
      ["a receipt's status", (r: Json[]) => (r[1]!.status = "0x0")],
      ["a receipt's cumulative gas", (r: Json[]) => (r[4]!.cumulativeGasUsed = flip(r[4]!.cumulativeGasUsed))],
      ["two receipts' order", (r: Json[]) => r.reverse()],
    ])("%s: the receipts root", async (_, alter) => {
      const { block, receipts } = copy();
      alter(receipts);
      expect(fields(block, receipts)).toEqual(["receiptsRoot"]);
    });

    it.each([
      ["a log's topic", (r: Json[]) => ((log(r, 2, 0).topics as string[])[1] = `0x${"77".repeat(32)}`)],
      ["a log's address", (r: Json[]) => (log(r, 0, 0).address = `0x${"12".repeat(20)}`)],
      ["a log left out", (r: Json[]) => (r[5]!.logs as Json[]).pop()],
    ])("%s: the receipts root and the logs bloom", async (_, alter) => {
      const { block, receipts } = copy();
      alter(receipts);
      expect(fields(block, receipts)).toEqual(["receiptsRoot", "logsBloom"]);
    });

    it("a receipt left out: the count", async () => {
      const { block, receipts } = copy();
      receipts.pop();
      expect(verifyBlock(block, receipts)).toEqual({ layout: "prague", discrepancies: [{ field: "receipts", detail: "5 receipts for 6 transactions" }] });
    });

    it("a field that is not hex: named as unverifiable", async () => {
      const { block, receipts } = copy();
      (receipts[2]!.logs as Json[])[0]!.data = "0xg0";
      expect(verifyBlock(block, receipts)).toEqual({
        layout: "prague",
        discrepancies: [{ field: "receipts[2].logs[0].data", detail: expect.stringMatching(/^cannot be verified: receipts\[2\]\.logs\[0\]\.data: not a hex digit/) }],
      });
    });
  });
});
