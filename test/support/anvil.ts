/**
 * A real Ethereum node for tests and benchmarks: anvil 1.4.4 from npm on
 * 127.0.0.1, plus the chains we seed it with (through viem). Node only.
 */
import { fileURLToPath } from "node:url";
import {
  createTestClient,
  createWalletClient,
  http,
  publicActions,
  type Address,
  type Hex,
  type TestClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { SeededChain } from "./harness-types";
import { freePort, startProcess } from "./local-process";
import { EMIT_ALL, EMIT_THEN_REVERT, emitterCalldata, LOG_EMITTER_DEPLOY_CODE, word } from "./log-emitter";

const ANVIL_BIN = fileURLToPath(new URL("../../node_modules/.bin/anvil", import.meta.url));

export interface AnvilNode {
  url: string;
  /** The anvil process (for the benches' CPU accounting). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts anvil on a free loopback port and resolves once it answers
 * JSON-RPC. Transactions are ordered first-in first-out, so the seeders
 * decide the order inside a block.
 */
export async function startAnvil(extraArgs: readonly string[] = []): Promise<AnvilNode> {
  let lastError: unknown;
  // The free port can be taken between probing and anvil binding it: try again then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(port, extraArgs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(port: number, extraArgs: readonly string[]): Promise<AnvilNode> {
  const anvil = startProcess(ANVIL_BIN, ["--host", "127.0.0.1", "--port", String(port), "--order", "fifo", "--silent", ...extraArgs]);
  const url = `http://127.0.0.1:${port}`;
  const stop = anvil.stop;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (anvil.child.exitCode !== null) throw new Error(`anvil exited with code ${anvil.child.exitCode}: ${anvil.stderr()}`);
    if (await answers(url)) return { url, pid: anvil.child.pid!, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`anvil did not answer on ${url} within 20 s: ${anvil.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    return response.ok && typeof ((await response.json()) as { result?: unknown }).result === "string";
  } catch {
    return false;
  }
}

interface Seeder {
  client: TestClient & ReturnType<typeof publicActions>;
  wallet: ReturnType<typeof createWalletClient>;
  accounts: Address[];
  nonces: Map<Address, number>;
}

async function seeder(url: string, batch: boolean): Promise<Seeder> {
  const transport = http(url, batch ? { batch: { batchSize: 500 } } : {});
  const client = createTestClient({ mode: "anvil", transport }).extend(publicActions);
  const wallet = createWalletClient({ transport });
  const accounts = await wallet.getAddresses();
  const nonces = new Map<Address, number>();
  for (const account of accounts.slice(0, 4)) nonces.set(account, await client.getTransactionCount({ address: account, blockTag: "pending" }));
  return { client, wallet, accounts, nonces };
}

type TxFields =
  | { type: "legacy"; gasPrice: bigint }
  | { type: "eip2930"; gasPrice: bigint; accessList: { address: Address; storageKeys: Hex[] }[] }
  | { type: "eip1559"; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

const EIP1559: TxFields = { type: "eip1559", maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_500_000_000n };

/** eth_sendTransaction from an unlocked dev account, with explicit nonce and gas so nothing is estimated. */
function send(
  s: Seeder,
  from: Address,
  tx: { to?: Address; value?: bigint; data?: Hex; gas: bigint; fees?: TxFields },
): Promise<Hex> {
  const nonce = s.nonces.get(from)!;
  s.nonces.set(from, nonce + 1);
  return s.wallet.sendTransaction({
    account: from,
    chain: null,
    to: tx.to ?? null,
    value: tx.value,
    data: tx.data,
    gas: tx.gas,
    nonce,
    ...(tx.fees ?? EIP1559),
  } as Parameters<Seeder["wallet"]["sendTransaction"]>[0]);
}

async function mineOne(s: Seeder): Promise<number> {
  await s.client.mine({ blocks: 1 });
  return Number(await s.client.getBlockNumber({ cacheTime: 0 }));
}

const topics = (base: number): Hex[] => [word(base + 1), word(base + 2), word(base + 3), word(base + 4)];

/**
 * Seeds the chain every extraction test reads: a few dozen blocks with a
 * contract creation, value transfers of three transaction types, logs with
 * 0 to 4 topics, reverted transactions at the start and in the middle of a
 * block, an EIP-7702 transaction, and empty blocks in between.
 */
export async function seedTestChain(url: string): Promise<SeededChain> {
  const s = await seeder(url, false);
  const [a0, a1, a2, a3] = s.accounts as [Address, Address, Address, Address];
  await s.client.setAutomine(false);
  const empty: number[] = [];
  const mineEmpty = async (count: number) => {
    for (let i = 0; i < count; i++) empty.push(await mineOne(s));
  };

  const deployHash = await send(s, a0, { data: LOG_EMITTER_DEPLOY_CODE, gas: 300_000n });
  const contractCreation = await mineOne(s);
  const deployReceipt = await s.client.getTransactionReceipt({ hash: deployHash });
  const emitter = deployReceipt.contractAddress!;
  await mineEmpty(2);

  await send(s, a0, { to: a1, value: 10n ** 18n, gas: 21_000n, fees: { type: "legacy", gasPrice: 20_000_000_000n } });
  await send(s, a0, {
    to: a2,
    value: 12_345n,
    gas: 30_000n,
    fees: { type: "eip2930", gasPrice: 21_000_000_000n, accessList: [{ address: emitter, storageKeys: [word(1)] }] },
  });
  await send(s, a1, { to: a3, value: 3n * 10n ** 17n, gas: 21_000n });
  await send(s, a2, { to: a0, value: 1n, gas: 21_000n, fees: { type: "legacy", gasPrice: 25_000_000_000n } });
  const valueTransfers = await mineOne(s);

  for (let n = 0; n <= 4; n++) await send(s, a0, { to: emitter, data: emitterCalldata(n, topics(0x100 * (n + 1))), gas: 100_000n });
  await send(s, a0, { to: emitter, data: emitterCalldata(EMIT_ALL, topics(0x600), "0xdeadbeef"), gas: 200_000n });
  const logs = await mineOne(s);
  await mineEmpty(1);

  const revertedTransactions: Hex[] = [];
  await send(s, a1, { to: a2, value: 777n, gas: 21_000n });
  revertedTransactions.push(await send(s, a1, { to: emitter, data: emitterCalldata(EMIT_THEN_REVERT, topics(0x700)), gas: 100_000n }));
  await send(s, a1, { to: emitter, data: emitterCalldata(2, topics(0x800)), gas: 100_000n });
  const revertedMiddle = await mineOne(s);

  revertedTransactions.push(await send(s, a2, { to: emitter, data: emitterCalldata(EMIT_THEN_REVERT, topics(0x900)), gas: 100_000n }));
  await send(s, a2, { to: emitter, data: emitterCalldata(3, topics(0xa00), "0x01"), gas: 100_000n });
  const revertedFirst = await mineOne(s);
  await mineEmpty(2);

  await sendSetCode(s, a3, emitter);
  await send(s, a0, { to: a3, value: 5n, gas: 21_000n });
  const setCode = await mineOne(s);

  // Filler: a mix of everything, with an empty block every third.
  for (let i = 0; i < 24; i++) {
    if (i % 3 === 2) {
      await mineEmpty(1);
      continue;
    }
    const from = s.accounts[i % 4]!;
    await send(s, from, { to: s.accounts[(i + 1) % 4]!, value: BigInt(i + 1), gas: 21_000n });
    await send(s, from, { to: emitter, data: emitterCalldata(i % 6, topics(0x1000 + i * 0x10)), gas: 200_000n });
    if (i % 4 === 0) {
      revertedTransactions.push(await send(s, from, { to: emitter, data: emitterCalldata(EMIT_THEN_REVERT, topics(0x2000 + i)), gas: 100_000n }));
    }
    await mineOne(s);
  }

  await s.client.setAutomine(true);
  const head = Number(await s.client.getBlockNumber({ cacheTime: 0 }));
  return {
    emitter,
    blocks: { contractCreation, valueTransfers, logs, revertedMiddle, revertedFirst, setCode, empty },
    revertedTransactions,
    head,
  };
}

/** Hardforks whose header layouts a verification test covers, oldest first (anvil's `--hardfork` names). */
export type LayoutFork = "berlin" | "london" | "shanghai" | "cancun" | "prague";

/**
 * A short chain on an anvil started with `--hardfork <fork>`: per block, transfers of every transaction type
 * the fork has (legacy and EIP-2930; EIP-1559 from London; on Prague an EIP-7702 one too), emitter calls
 * with 0 to 5 logs, a reverted call, and an empty block between busy ones.
 */
export async function seedForkChain(url: string, fork: LayoutFork): Promise<{ head: number }> {
  const s = await seeder(url, false);
  const [a0, a1, a2, a3] = s.accounts as [Address, Address, Address, Address];
  const legacy: TxFields = { type: "legacy", gasPrice: 30_000_000_000n };
  const dynamic = fork === "berlin" ? legacy : EIP1559;
  await s.client.setAutomine(false);
  await send(s, a0, { data: LOG_EMITTER_DEPLOY_CODE, gas: 300_000n, fees: dynamic });
  await mineOne(s);
  const emitter = (await s.client.getTransactionReceipt({ hash: (await s.client.getBlock({ includeTransactions: false })).transactions[0]! })).contractAddress!;
  for (let round = 0; round < 3; round++) {
    await send(s, a0, { to: a1, value: 10n ** 15n, gas: 21_000n, fees: legacy });
    await send(s, a1, {
      to: a2,
      value: 7n,
      gas: 30_000n,
      fees: { type: "eip2930", gasPrice: 30_000_000_000n, accessList: [{ address: emitter, storageKeys: [word(round)] }] },
    });
    await send(s, a2, { to: a3, value: 9n, gas: 21_000n, fees: dynamic });
    for (let n = 0; n <= 5; n++) await send(s, a3, { to: emitter, data: emitterCalldata(n, topics(0x100 * (n + 1) + round)), gas: 200_000n, fees: dynamic });
    await send(s, a0, { to: emitter, data: emitterCalldata(EMIT_THEN_REVERT, topics(0x900 + round)), gas: 100_000n, fees: dynamic });
    await mineOne(s);
    await mineOne(s);
  }
  if (fork === "prague") {
    await sendSetCode(s, a3, emitter);
    await mineOne(s);
  }
  await s.client.setAutomine(true);
  return { head: Number(await s.client.getBlockNumber({ cacheTime: 0 })) };
}

/** The key of anvil's last default dev account (0xa0Ee7A142d267C1f36714E4a8F75612F20a79720). */
const DEV_ACCOUNT_9_KEY = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";

/**
 * An EIP-7702 transaction: a dev account that never sends anything itself
 * delegates its code to `target`, and `sponsor` pays for the authorisation
 * and calls the account (so its LOG1 comes from the delegating address).
 */
async function sendSetCode(s: Seeder, sponsor: Address, target: Address): Promise<Hex> {
  const authority = privateKeyToAccount(DEV_ACCOUNT_9_KEY);
  const authorization = await authority.signAuthorization({
    address: target,
    chainId: await s.client.getChainId(),
    nonce: await s.client.getTransactionCount({ address: authority.address, blockTag: "pending" }),
  });
  const nonce = s.nonces.get(sponsor)!;
  s.nonces.set(sponsor, nonce + 1);
  return s.wallet.sendTransaction({
    account: sponsor,
    chain: null,
    to: authority.address,
    data: emitterCalldata(1, topics(0xb00)),
    gas: 200_000n,
    nonce,
    authorizationList: [authorization],
    type: "eip7702",
    maxFeePerGas: 40_000_000_000n,
    maxPriorityFeePerGas: 2_000_000_000n,
  });
}

export interface BulkChainOptions {
  /** Blocks to add (the head grows by exactly this much). */
  blocks: number;
  /** Transactions to spread over them: a third move value, the rest call the emitter (0 to 5 logs each, about one in seven of those reverts). */
  transactions: number;
  /** Transactions per non-empty block. Default 8. */
  perBlock?: number;
}

/**
 * Seeds many blocks fast, for benchmarks: transactions go out in JSON-RPC
 * batches with automine off, each busy block is mined with one call, and
 * the empty blocks between them with one anvil_mine.
 */
export async function seedBulkChain(url: string, options: BulkChainOptions): Promise<{ emitter: Address; head: number }> {
  const s = await seeder(url, true);
  const perBlock = options.perBlock ?? 8;
  const [a0] = s.accounts as [Address];
  await s.client.setAutomine(false);
  const start = Number(await s.client.getBlockNumber({ cacheTime: 0 }));
  const deployHash = await send(s, a0, { data: LOG_EMITTER_DEPLOY_CODE, gas: 300_000n });
  await s.client.mine({ blocks: 1 });
  const emitter = (await s.client.getTransactionReceipt({ hash: deployHash })).contractAddress!;

  const busyBlocks = Math.min(options.blocks - 1, Math.ceil(options.transactions / perBlock));
  const gap = busyBlocks > 0 ? Math.floor((options.blocks - 1) / busyBlocks) : 0;
  let sent = 0;
  for (let b = 0; b < busyBlocks; b++) {
    const sends: Promise<Hex>[] = [];
    for (let k = 0; k < perBlock && sent < options.transactions; k++, sent++) {
      const from = s.accounts[sent % 4]!;
      const kind = sent % 3;
      if (kind === 0) sends.push(send(s, from, { to: s.accounts[(sent + 1) % 4]!, value: BigInt(sent + 1), gas: 21_000n }));
      else if (kind === 1) sends.push(send(s, from, { to: emitter, data: emitterCalldata(sent % 6, topics(sent * 8)), gas: 200_000n }));
      else sends.push(send(s, from, { to: emitter, data: emitterCalldata(sent % 7 === 0 ? EMIT_THEN_REVERT : 4, topics(sent * 8)), gas: 100_000n }));
    }
    await Promise.all(sends);
    // anvil_mine puts every pending transaction into the first of the blocks it mines.
    await s.client.mine({ blocks: Math.max(1, gap) });
  }
  const mined = Number(await s.client.getBlockNumber({ cacheTime: 0 })) - start;
  if (mined < options.blocks) await s.client.mine({ blocks: options.blocks - mined });
  await s.client.setAutomine(true);
  return { emitter, head: Number(await s.client.getBlockNumber({ cacheTime: 0 })) };
}

export interface ShapedChainOptions {
  /** Blocks to add (the head grows by exactly this much). */
  blocks: number;
  /** Transactions in each non-empty block. */
  perBlock: number;
  /** Every this-many-th block is left empty (0: none). */
  emptyEvery: number;
}

/**
 * Seeds a chain with a fixed mix of work, for the benches: of every 20
 * transactions 2 move value, 1 emits a log and reverts, 6 emit five logs
 * (LOG0..LOG4) and 11 emit one log with 0 to 4 topics; every 100th is a
 * contract creation instead. About 2 logs per transaction. Transactions go
 * out in JSON-RPC batches with automine off and each block is mined with
 * one call (an empty one after it where the shape wants one).
 */
export async function seedShapedChain(url: string, options: ShapedChainOptions): Promise<{ head: number }> {
  const s = await seeder(url, true);
  const [a0] = s.accounts as [Address];
  await s.client.setAutomine(false);
  const start = Number(await s.client.getBlockNumber({ cacheTime: 0 }));
  const deployHash = await send(s, a0, { data: LOG_EMITTER_DEPLOY_CODE, gas: 300_000n });
  await s.client.mine({ blocks: 1 });
  const emitter = (await s.client.getTransactionReceipt({ hash: deployHash })).contractAddress!;
  let sent = 0;
  for (let block = 2; block <= options.blocks; block++) {
    if (options.emptyEvery > 0 && block % options.emptyEvery === 0) {
      await s.client.mine({ blocks: 1 });
      continue;
    }
    const sends: Promise<Hex>[] = [];
    for (let k = 0; k < options.perBlock; k++, sent++) {
      const from = s.accounts[sent % 4]!;
      const slot = sent % 20;
      if (sent % 100 === 99) sends.push(send(s, from, { data: LOG_EMITTER_DEPLOY_CODE, gas: 300_000n }));
      else if (slot === 0 || slot === 10) sends.push(send(s, from, { to: s.accounts[(sent + 1) % 4]!, value: BigInt(sent + 1), gas: 21_000n }));
      else if (slot === 7) sends.push(send(s, from, { to: emitter, data: emitterCalldata(EMIT_THEN_REVERT, topics(sent * 8)), gas: 100_000n }));
      else if (slot % 3 === 0) sends.push(send(s, from, { to: emitter, data: emitterCalldata(EMIT_ALL, topics(sent * 8)), gas: 200_000n }));
      else sends.push(send(s, from, { to: emitter, data: emitterCalldata(sent % 5, topics(sent * 8)), gas: 100_000n }));
    }
    await Promise.all(sends);
    // anvil_mine puts every pending transaction into the first of the blocks it mines.
    const emptyNext = options.emptyEvery > 0 && (block + 1) % options.emptyEvery === 0 && block < options.blocks;
    await s.client.mine({ blocks: emptyNext ? 2 : 1 });
    if (emptyNext) block++;
  }
  const mined = Number(await s.client.getBlockNumber({ cacheTime: 0 })) - start;
  if (mined < options.blocks) await s.client.mine({ blocks: options.blocks - mined });
  await s.client.setAutomine(true);
  return { head: Number(await s.client.getBlockNumber({ cacheTime: 0 })) };
}
