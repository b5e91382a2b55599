import path from "node:path";
import { fileFields, type EvmRpcTableName } from "../../src/domain/dataset-kinds/evm-rpc";
import type { ArrowField } from "../../src/domain/arrow";
import { SHARED_DIR } from "./shared-fixtures";

/** The original's files of mainnet block 15,000,000 (fixtures/README.md). */
export const REFERENCE_PARQUET_DIR = path.join(SHARED_DIR, "fixtures/parquet/eth_rpc_15000000");

/**
 * Our file fields as the reference files hold them: those files predate two changes of the original's code,
 * blocks.total_difficulty (its #1055) and a nullable transactions.to (§5.1: "FSB20, NULL").
 */
export function referenceFileFields(table: EvmRpcTableName): ArrowField[] {
  return fileFields(table)
    .filter((field) => !(table === "blocks" && field.name === "total_difficulty"))
    .map((field) => (table === "transactions" && field.name === "to" ? { ...field, nullable: false } : field));
}
