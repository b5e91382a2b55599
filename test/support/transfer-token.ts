/**
 * A minimal token in raw EVM bytecode, so tests need no compiler: calldata
 * is two words, `to` and `value`, and every call emits the ERC-20 event
 * `Transfer(address indexed from, address indexed to, uint256 value)` with
 * `from` = the caller and `value` as the log's data, exactly as a real token
 * logs a transfer. It keeps no balances: the tests check decoding, not
 * accounting. Works in Node and in workerd (fetch and viem only).
 */
import { type Address, concatHex, encodeAbiParameters, type Hex, keccak256, toHex } from "viem";
import { rawRpc } from "../extract/evm-rpc/helpers";

export const TRANSFER_EVENT = "Transfer(address indexed from, address indexed to, uint256 value)";
export const TRANSFER_TOPIC = keccak256(toHex("Transfer(address,address,uint256)"));

// value = calldata[32..64] → memory[0..32]; LOG3(memory[0..32], topic0, caller, calldata[0..32]); STOP
const RUNTIME_CODE = concatHex(["0x602035600052600035337f", TRANSFER_TOPIC, "0x60206000a300"]);
const RUNTIME_LENGTH = (RUNTIME_CODE.length - 2) / 2;
// PUSH1 len, DUP1, PUSH1 11, PUSH1 0, CODECOPY, PUSH1 0, RETURN: the runtime follows these 11 bytes.
const DEPLOY_CODE = concatHex([`0x60${RUNTIME_LENGTH.toString(16).padStart(2, "0")}80600b6000396000f3`, RUNTIME_CODE]);

export const DEV_ACCOUNTS: readonly Address[] = [
  "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
  "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
];

async function send(url: string, tx: Record<string, string>): Promise<Hex> {
  return (await rawRpc(url, "eth_sendTransaction", [{ gas: "0x30000", ...tx }])) as Hex;
}

/** Deploys the token from the first dev account and mines it; its address. */
export async function deployToken(url: string): Promise<Address> {
  const hash = await send(url, { from: DEV_ACCOUNTS[0]!, data: DEPLOY_CODE });
  await rawRpc(url, "anvil_mine", ["0x1"]);
  const receipt = (await rawRpc(url, "eth_getTransactionReceipt", [hash])) as { contractAddress: Address; status: string };
  if (receipt.status !== "0x1") throw new Error("the token's deployment reverted");
  return receipt.contractAddress;
}

export interface SentTransfer {
  from: Address;
  to: Address;
  value: bigint;
  txHash: Hex;
}

/** Sends a transfer, left pending until the test mines. */
export async function sendTransfer(url: string, token: Address, transfer: { from: Address; to: Address; value: bigint }): Promise<SentTransfer> {
  const data = encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [transfer.to, transfer.value]);
  const txHash = await send(url, { from: transfer.from, to: token, data });
  return { ...transfer, txHash };
}

/** The block a mined transaction landed in. */
export async function blockOf(url: string, txHash: Hex): Promise<number> {
  const receipt = (await rawRpc(url, "eth_getTransactionReceipt", [txHash])) as { blockNumber: string } | null;
  if (!receipt) throw new Error(`transaction ${txHash} is not mined`);
  return Number(receipt.blockNumber);
}
