/**
 * keccak-256, the hash of every check here. js-sha3's: measured at about four
 * times viem's (@noble/hashes 1.8) and twice @noble/hashes 2.x on this
 * machine, and a mainnet block takes thousands of them (README, "Verification").
 */
import { keccak256 as jsSha3Keccak256 } from "js-sha3";

export function keccak256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(jsSha3Keccak256.arrayBuffer(bytes));
}
