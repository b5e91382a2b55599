import { EVM_RPC_KIND_TABLES } from "../../src/domain/dataset-kinds/evm-rpc";
/**
 * A reorg on a real node: extract, replace the tip with `anvil_reorg`,
 * check the files against the node as a running job does, extract what that
 * check asks for, and the canonical chain of the files picks the new branch.
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalChain, checkTip, type SizedSegment } from "../../src/domain/canonical-chain";
import { EvmRpcClient } from "../../src/extract/evm-rpc/client";
import { runExtractStep, type WrittenFile } from "../../src/extract/step-runner";
import { startFreshNode } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { rawRpc } from "./evm-rpc/helpers";

const { harnessUrl } = harness();
const PATH = "anvil/blocks/reorg-test/";

function segmentsOf(files: readonly WrittenFile[], firstId: number): SizedSegment[] {
  return files.map((file, i) => ({
    fileId: firstId + i,
    range: file.range,
    hash: file.hash,
    prevHash: file.prevHash,
    network: "anvil",
    objectSize: file.bytes,
  }));
}

describe("a reorg of the tip", () => {
  let node: Awaited<ReturnType<typeof startFreshNode>>;
  beforeAll(async () => {
    node = await startFreshNode(harnessUrl, { seed: true });
  });
  afterAll(async () => {
    await node.stop();
  });

  async function extract(client: EvmRpcClient, start: number, end: number): Promise<WrittenFile[]> {
    const { files } = await runExtractStep({
      client,
      bucket: env.BUCKET,
      network: "anvil",
      kindTables: EVM_RPC_KIND_TABLES,
      range: { start, end },
      tables: [{ table: "blocks", locationId: 1, path: PATH, ranges: [{ start, end }] }],
    });
    return files;
  }

  it("is found by the tip check and repaired so the canonical chain follows the new branch", async () => {
    const client = new EvmRpcClient({ url: node.url });
    const head = (await client.head(false))!;
    const split = head - 4;
    const segments = [
      ...segmentsOf(await extract(client, 0, split), 1),
      ...segmentsOf(await extract(client, split + 1, head), 2),
    ];
    const oldTip = segments[1]!.hash;

    // Replace the last 3 blocks with a branch of different blocks.
    await rawRpc(node.url, "anvil_reorg", [3, []]);
    const newHead = (await client.head(false))!;
    expect(newHead).toBe(head);

    let canonical = canonicalChain(segments, 0);
    let check = checkTip(canonical, { head: newHead, hashes: new Map() });
    expect(check).toEqual({ status: "needHashes", blocks: [head] });
    const hashes = await client.blockHashes([head, split]);
    check = checkTip(canonical, { head: newHead, hashes });
    expect(check).toEqual({ status: "reorged", from: split + 1, reextract: { start: split + 1, end: head } });
    if (check.status !== "reorged" || !check.reextract) throw new Error("unreachable");

    const repaired = segmentsOf(await extract(client, check.reextract.start, check.reextract.end), 3);
    expect(repaired[0]!.hash).not.toBe(oldTip);
    expect(repaired[0]!.hash).toBe(hashes.get(head));
    canonical = canonicalChain([...segments, ...repaired], 0);
    expect(canonical.map((segment) => segment.fileId)).toEqual([1, 3]);
    expect(checkTip(canonical, { head: newHead, hashes: await client.blockHashes([head]) })).toEqual({ status: "consistent" });

    const listing = await env.BUCKET.list({ prefix: `data/${PATH}` });
    expect(listing.objects).toHaveLength(3);
  });
});
