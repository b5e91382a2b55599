/**
 * Derived datasets run as jobs (issue 11 §4), over data of the test's own:
 * a token on a fresh anvil sends ERC-20 Transfers, a raw evm-rpc job
 * extracts them, and a derived dataset decodes them (`evm_decode_log`),
 * joins transactions and logs, and counts Transfers per `block_num()`.
 * Checked against what the test's transactions sent, through `POST /query`
 * and the files' rows, hashes and ranges.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { openDb } from "../../src/store/db";
import { listCanonicalFiles } from "../../src/store/canonical-files";
import { findActiveLocation } from "../../src/store/locations";
import { rawRpc } from "../extract/evm-rpc/helpers";
import { startFreshNode } from "../support/fault-control";
import { harness } from "../support/provided-context";
import { blockOf, DEV_ACCOUNTS, deployToken, type SentTransfer, sendTransfer, TRANSFER_EVENT } from "../support/transfer-token";
import {
  api,
  type Dataset,
  deploy,
  expectTiled,
  getJob,
  jobEvents,
  locationsOf,
  postJson,
  registerDerived,
  setupDataset,
  stop,
  uniqueName,
  verifyLocationFiles,
  waitFor,
  waitForJob,
} from "./e2e-support";

const { harnessUrl } = harness();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TRANSFERS_SQL = `SELECT tx_hash, log_index, address, dec."from" AS sender, dec."to" AS recipient, dec.value AS amount
  FROM (SELECT tx_hash, log_index, address, evm_decode_log(topic1, topic2, topic3, data, '${TRANSFER_EVENT}') AS dec
        FROM eth.logs WHERE topic0 = evm_topic('${TRANSFER_EVENT}'))`;
const TX_LOGS_SQL = `SELECT t.tx_hash, t."from" AS tx_from, t.to AS tx_to, l.log_index
  FROM eth.transactions t JOIN eth.logs l ON t.tx_hash = l.tx_hash`;
/** A table reading its sibling (`self.`): it runs after `transfers` in each microbatch. */
const FROM_FIRST_SQL = (sender: string) => `SELECT tx_hash, recipient, amount FROM self.transfers WHERE sender = X'${sender.slice(2)}'`;
const PER_BLOCK_SQL = `SELECT block_num() AS bn, count(*) AS transfers FROM eth.logs WHERE topic0 = evm_topic('${TRANSFER_EVENT}') GROUP BY block_num()`;

type Row = Record<string, unknown>;

async function query(sql: string): Promise<Row[]> {
  const res = await api("/query", { method: "POST", headers: { "content-type": "text/plain" }, body: sql });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Row);
}

const hex = (value: string) => value.toLowerCase().replace(/^0x/, "");

function expectedTransfers(sent: readonly (SentTransfer & { block: number })[], token: string) {
  return sent.map((t) => ({ _block_num: t.block, tx_hash: hex(t.txHash), address: hex(token), sender: hex(t.from), recipient: hex(t.to), amount: t.value.toString() }));
}

/** The derived table's canonical files carry the raw chain's hashes: each file's end hash is the node's block hash. */
async function expectChainOnNode(dataset: Dataset, table: string, nodeUrl: string): Promise<void> {
  const db = openDb(env.DB);
  const hash = (await api(`${dataset.base}`).then((r) => r.json())) as { manifest_hash: string };
  const location = await findActiveLocation(db, hash.manifest_hash, table);
  const files = await listCanonicalFiles(db, location!, 0);
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const block = (await rawRpc(nodeUrl, "eth_getBlockByNumber", [`0x${file.range.end.toString(16)}`, false])) as { hash: string };
    expect(file.hash, `${table} file ${file.range.start}..=${file.range.end}`).toBe(block.hash);
  }
}

describe("a derived dataset", () => {
  it("decodes Transfers, joins transactions and logs and counts per block_num() as a bounded job, then completes at once", async () => {
    const node = await startFreshNode(harnessUrl, { seed: false });
    cleanups.push(node.stop);
    await rawRpc(node.url, "evm_setAutomine", [false]);
    const token = await deployToken(node.url);
    const [a, b, c] = DEV_ACCOUNTS as [`0x${string}`, `0x${string}`, `0x${string}`];
    const sent: (SentTransfer & { block: number })[] = [];
    const round = async (transfers: { from: `0x${string}`; to: `0x${string}`; value: bigint }[]) => {
      const pending = [];
      for (const transfer of transfers) pending.push(await sendTransfer(node.url, token, transfer));
      await rawRpc(node.url, "anvil_mine", ["0x1"]);
      for (const transfer of pending) sent.push({ ...transfer, block: await blockOf(node.url, transfer.txHash) });
    };
    await round([
      { from: a, to: b, value: 1n },
      { from: b, to: c, value: 10n ** 30n + 7n },
      { from: c, to: a, value: 2n ** 255n },
    ]);
    await rawRpc(node.url, "anvil_mine", ["0x9"]);
    await round([{ from: a, to: c, value: 42n }, { from: a, to: b, value: 0n }]);
    await rawRpc(node.url, "anvil_mine", ["0xa"]);
    const head = Number(await rawRpc(node.url, "eth_blockNumber", []));
    expect(new Set(sent.map((t) => t.block)).size).toBe(2);

    const raw = await setupDataset({ providerUrl: node.url });
    expect((await waitForJob(await deploy(raw, { end_block: head, parallelism: 2 }))).status).toBe("COMPLETED");

    // "a_sent" sorts before "transfers": the order comes from the self. reference, not the names.
    const derived = await registerDerived(raw, { transfers: TRANSFERS_SQL, a_sent: FROM_FIRST_SQL(a), tx_logs: TX_LOGS_SQL, per_block: PER_BLOCK_SQL });
    const jobId = await deploy(derived, { end_block: "latest", parallelism: 2 });
    const job = await waitForJob(jobId);
    expect(job.status, JSON.stringify(await jobEvents(jobId))).toBe("COMPLETED");

    const ref = `"_/${derived.name}@1.0.0"`;
    const transfers = await query(`SELECT * FROM ${ref}.transfers`);
    const byTx = (rows: Row[]) => [...rows].sort((x, y) => String(x.tx_hash).localeCompare(String(y.tx_hash)));
    expect(byTx(transfers.map(({ _block_num, tx_hash, address, sender, recipient, amount }) => ({ _block_num, tx_hash, address, sender, recipient, amount })))).toEqual(
      byTx(expectedTransfers(sent, token)),
    );
    const fromA = await query(`SELECT _block_num, tx_hash, recipient, amount FROM ${ref}.a_sent`);
    expect(byTx(fromA)).toEqual(
      byTx(sent.filter((t) => t.from === a).map((t) => ({ _block_num: t.block, tx_hash: hex(t.txHash), recipient: hex(t.to), amount: t.value.toString() }))),
    );
    const joined = await query(`SELECT * FROM ${ref}.tx_logs`);
    expect(byTx(joined.map(({ _block_num, tx_hash, tx_from, tx_to }) => ({ _block_num, tx_hash, tx_from, tx_to })))).toEqual(
      byTx(sent.map((t) => ({ _block_num: t.block, tx_hash: hex(t.txHash), tx_from: hex(t.from), tx_to: hex(token) }))),
    );
    const counts = await query(`SELECT _block_num, bn, transfers FROM ${ref}.per_block`);
    const perBlock = new Map<number, number>();
    for (const t of sent) perBlock.set(t.block, (perBlock.get(t.block) ?? 0) + 1);
    expect(counts.sort((x, y) => Number(x._block_num) - Number(y._block_num))).toEqual([...perBlock].sort(([x], [y]) => x - y).map(([block, n]) => ({ _block_num: block, bn: block, transfers: n })));

    // Files as raw tables have them: every block once, tiled by steps, each file's end hash the node's.
    for (const location of await locationsOf(derived)) {
      const { files, blockNums } = await verifyLocationFiles(location);
      expectTiled(files, 0, head, location.table);
      expect(files[0]!.metadata.ranges[0].prev_hash).toBe("0x" + "0".repeat(64));
      expect(blockNums).toEqual([...blockNums].sort((x, y) => Number(x - y)));
      await expectChainOnNode(derived, location.table, node.url);
    }
    const progress = (await (await api(`${derived.base}/progress`)).json()) as { tables: { table_name: string; current_block: number }[] };
    expect(progress.tables.map((t) => [t.table_name, t.current_block]).sort()).toEqual([["a_sent", head], ["per_block", head], ["transfers", head], ["tx_logs", head]]);

    // Its output already reaches the end: a second bounded job completes without a step.
    const again = await deploy(derived, { end_block: head });
    expect((await waitForJob(again)).status).toBe("COMPLETED");
    expect((await jobEvents(again)).map((event) => event.kind)).not.toContain("step_started");
  });

  it("refuses a non-incremental table at /schema and registration, naming the construct", async () => {
    const raw = await setupDataset({ providerUrl: null });
    const tables = { top: "SELECT max(gas_used) AS most FROM eth.blocks" };
    const dependencies = { eth: `_/${raw.name}@1.0.0` };
    const schema = await postJson("/schema", { tables, dependencies });
    expect(schema.status).toBe(400);
    expect(await schema.json()).toMatchObject({ error_code: "NON_INCREMENTAL_QUERY", error_message: expect.stringContaining("Aggregate") });
    const manifest = { kind: "manifest", dependencies, tables: { top: { input: { sql: tables.top }, schema: { arrow: { fields: [] } }, network: raw.network } } };
    const res = await postJson("/datasets", { namespace: "_", name: uniqueName("derived"), version: "1.0.0", manifest });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error_code: "NON_INCREMENTAL_QUERY", error_message: "In table 'top': query contains non-incremental operation: Aggregate" });
    const undeclared = { ...manifest, tables: { t: { ...manifest.tables.top, input: { sql: "SELECT block_num FROM other.blocks" } } } };
    const refused = await postJson("/datasets", { namespace: "_", name: uniqueName("derived"), version: "1.0.0", manifest: undeclared });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error_code: "DEPENDENCY_VALIDATION_ERROR", error_message: expect.stringContaining("'other'") });
  });

  it("fails its job with the reason when a dependency is gone by deploy or a table's SQL does not give its schema's columns", async () => {
    const manifest = (dependency: string, fields: unknown[]) => ({
      kind: "manifest",
      dependencies: { eth: dependency },
      tables: { t: { input: { sql: "SELECT block_num FROM eth.blocks" }, schema: { arrow: { fields } }, network: "nowhere" } },
      functions: {},
    });
    const register = async (value: unknown): Promise<Dataset> => {
      const name = uniqueName("derived");
      const res = await postJson("/datasets", { namespace: "_", name, version: "1.0.0", manifest: value });
      expect(res.status, await res.clone().text()).toBe(201);
      return { namespace: "_", name, revision: "1.0.0", network: "nowhere", startBlock: 0, base: `/datasets/_/${name}/versions/1.0.0` };
    };
    // Registration resolves every dependency; one deleted after it is found missing when the job starts.
    const refused = await postJson("/datasets", { namespace: "_", name: uniqueName("derived"), version: "1.0.0", manifest: manifest("_/not_registered_anywhere@1.0.0", []) });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      error_code: "DEPENDENCY_VALIDATION_ERROR",
      error_message: "Manifest validation error: dependency 'eth' (_/not_registered_anywhere@1.0.0) is not registered",
    });
    const gone = await setupDataset({ providerUrl: null });
    const missing = await register(manifest(`_/${gone.name}@1.0.0`, []));
    expect((await api(`/datasets/_/${gone.name}`, { method: "DELETE" })).status).toBe(204);
    const failed = await waitForJob(await deploy(missing, { end_block: 5 }));
    expect(failed.status).toBe("FAILED");
    expect(failed.failure_reason).toBe(`dependency 'eth' (_/${gone.name}@1.0.0) is not registered`);

    const node = await startFreshNode(harnessUrl, { seed: false });
    cleanups.push(node.stop);
    await rawRpc(node.url, "anvil_mine", ["0x3"]);
    const raw = await setupDataset({ providerUrl: node.url });
    expect((await waitForJob(await deploy(raw, { end_block: 3 }))).status).toBe("COMPLETED");
    const wrongSchema = await register(manifest(`_/${raw.name}@1.0.0`, [{ name: "no_such_column", type: "UInt64", nullable: false }]));
    const job = await waitForJob(await deploy(wrongSchema, { end_block: 3 }));
    expect(job.status).toBe("FAILED");
    expect(job.failure_reason).toMatch(/table t: its SQL gives no column 'no_such_column'/);
    for (const location of await locationsOf(wrongSchema)) expect((await verifyLocationFiles(location)).files).toEqual([]);
  });

  it("follows its dependency as a continuous job, and derives again what a reorg in the dependency replaced", async () => {
    const node = await startFreshNode(harnessUrl, { seed: false });
    cleanups.push(node.stop);
    await rawRpc(node.url, "evm_setAutomine", [false]);
    const token = await deployToken(node.url);
    const [a, b] = DEV_ACCOUNTS as [`0x${string}`, `0x${string}`];
    const transferAndMine = async (value: bigint, mine: number) => {
      const sent = await sendTransfer(node.url, token, { from: a, to: b, value });
      await rawRpc(node.url, "anvil_mine", [`0x${mine.toString(16)}`]);
      return { ...sent, block: await blockOf(node.url, sent.txHash) };
    };
    const early = await transferAndMine(1n, 6);
    const late = await transferAndMine(2n, 1);
    const head = Number(await rawRpc(node.url, "eth_blockNumber", []));
    expect(late.block).toBe(head);

    const raw = await setupDataset({ providerUrl: node.url });
    const rawJob = await deploy(raw, { end_block: null });
    const derived = await registerDerived(raw, { transfers: TRANSFERS_SQL, per_block: PER_BLOCK_SQL });
    const jobId = await deploy(derived, { end_block: null, parallelism: 2 });
    cleanups.push(async () => {
      for (const id of [jobId, rawJob]) if (!["STOPPED", "FAILED", "COMPLETED"].includes((await getJob(id)).status)) await stop(id);
    });
    const ref = `"_/${derived.name}@1.0.0"`;
    const transfersNow = async () => (await query(`SELECT _block_num, amount FROM ${ref}.transfers`)).sort((x, y) => Number(x._block_num) - Number(y._block_num));
    const progressAt = (block: number) =>
      waitFor(`every derived table at block ${block}`, async () => {
        const { tables } = (await (await api(`${derived.base}/progress`)).json()) as { tables: { current_block: number | null }[] };
        return tables.length === 2 && tables.every((t) => (t.current_block ?? -1) >= block) ? tables : undefined;
      }, 150_000);

    await progressAt(head);
    expect(await transfersNow()).toEqual([{ _block_num: early.block, amount: "1" }, { _block_num: late.block, amount: "2" }]);

    // The dependency grows: both tables follow it.
    const next = await transferAndMine(3n, 3);
    await progressAt(next.block + 2);
    expect(await transfersNow()).toEqual([
      { _block_num: early.block, amount: "1" },
      { _block_num: late.block, amount: "2" },
      { _block_num: next.block, amount: "3" },
    ]);

    // Replace every block after `late`'s with empty ones: `next`'s transfer is gone, `late`'s stays.
    const tip = Number(await rawRpc(node.url, "eth_blockNumber", []));
    await rawRpc(node.url, "anvil_reorg", [tip - late.block, []]);
    await waitFor("the reorged transfer to leave the derived table", async () => {
      const rows = await transfersNow();
      return rows.length === 2 ? rows : undefined;
    }, 150_000);
    expect(await transfersNow()).toEqual([{ _block_num: early.block, amount: "1" }, { _block_num: late.block, amount: "2" }]);
    await waitFor("the derived chain to match the node", async () => {
      try {
        await expectChainOnNode(derived, "transfers", node.url);
        await expectChainOnNode(derived, "per_block", node.url);
        return true;
      } catch {
        return undefined;
      }
    }, 150_000);
    const counts = await query(`SELECT _block_num, transfers FROM ${ref}.per_block`);
    expect(counts.sort((x, y) => Number(x._block_num) - Number(y._block_num))).toEqual([{ _block_num: early.block, transfers: 1 }, { _block_num: late.block, transfers: 1 }]);
    expect((await getJob(jobId)).status).toBe("RUNNING");
    await stop(jobId);
    expect((await waitForJob(jobId)).status).toBe("STOPPED");
  });
});
