/**
 * A real beacon node for tests: Lodestar 1.5.1 from npm in its `dev` mode on
 * 127.0.0.1 (Node only). It makes its own interop genesis, runs its own
 * validators and proposes blocks at one slot a second (minimal preset: 8
 * slots an epoch, so the chain finalizes within about a minute). Two of its
 * eight genesis validators are never started, so their turns to propose are
 * skipped slots, as on a real network.
 *
 * 1.5.1 is the newest Lodestar whose dependencies the npm registry reachable
 * here serves (later ones need @chainsafe/snappy-wasm); package.json pins the
 * rest of its tree to versions of its time (see the README, eth-beacon).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startProcess } from "./local-process";

const LODESTAR_BIN = fileURLToPath(new URL("../../node_modules/.bin/lodestar", import.meta.url));

export const BEACON_GENESIS_VALIDATORS = 8;
/** Validators 0..5 run; 6 and 7 exist but never propose nor attest (6/8 still finalizes). */
export const BEACON_RUNNING_VALIDATORS = 6;

export interface BeaconNode {
  url: string;
  stop(): Promise<void>;
}

/** Starts Lodestar and resolves once its REST API serves the head block. */
export async function startLodestar(): Promise<BeaconNode> {
  let lastError: unknown;
  // A free port can be taken between probing and binding it: try again then.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(await freePort(), await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(restPort: number, p2pPort: number): Promise<BeaconNode> {
  // `dev` writes its genesis state into the working directory.
  const dir = await mkdtemp(path.join(tmpdir(), "amp-edge-lodestar-"));
  const url = `http://127.0.0.1:${restPort}`;
  const args = [
    "dev",
    `--genesisValidators=${BEACON_GENESIS_VALIDATORS}`,
    `--startValidators=0..${BEACON_RUNNING_VALIDATORS - 1}`,
    "--params.SECONDS_PER_SLOT=1",
    `--dataDir=${path.join(dir, "data")}`,
    `--rest.port=${restPort}`,
    "--rest.address=127.0.0.1",
    `--beaconNodes=${url}`,
    "--listenAddress=127.0.0.1",
    `--port=${p2pPort}`,
    "--discv5=false",
    "--logLevel=warn",
    "--logFile=none",
  ];
  const lodestar = startProcess(LODESTAR_BIN, args, { cwd: dir, env: { ...process.env, LODESTAR_PRESET: "minimal" } });
  const stop = async () => {
    await lodestar.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (lodestar.child.exitCode !== null) {
      await stop();
      throw new Error(`lodestar exited with code ${lodestar.child.exitCode}: ${lodestar.stderr()}`);
    }
    if (await servesHead(url)) return { url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`lodestar did not serve its head block on ${url} within 60 s: ${lodestar.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function servesHead(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/eth/v2/beacon/blocks/head`, { headers: { accept: "application/json" } });
    return response.ok && typeof ((await response.json()) as { data?: unknown }).data === "object";
  } catch {
    return false;
  }
}
