/**
 * Deploy's `verify` for evm-rpc: a fetched block, already turned into rows
 * (so it parsed and its parts belong together), checked against its own
 * commitments by the domain's verifier before those rows are handed out.
 */
import { describeDiscrepancies, verifyBlock } from "../../domain/evm-verification/verify-block";
import { BlockInvalidError } from "./rows";

/** A block that parsed but is not what its hash says. Worth one refetch, like any invalid block; twice is fatal. */
export class BlockVerificationError extends BlockInvalidError {}

/** Why `block` (number `number`, with its receipts in transaction order) fails verification, or null when it passes. */
export function verificationFailure(number: number, block: unknown, receipts: readonly unknown[]): BlockVerificationError | null {
  const { layout, discrepancies } = verifyBlock(block, receipts);
  if (discrepancies.length === 0) return null;
  const header = layout === null ? "" : ` (${layout} header)`;
  return new BlockVerificationError(number, `verification failed${header}: ${describeDiscrepancies(discrepancies)}`);
}
