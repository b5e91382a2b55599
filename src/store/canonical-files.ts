import { type Segment, canonicalChain } from "../domain/canonical-chain";
import type { Db } from "./db";
import { listChainFiles } from "./files";
import { fileObjectKey } from "./r2-layout";

/** A file of a table's canonical chain as a reader needs it: its R2 key, size and block range. */
export interface CanonicalFile extends Segment {
  key: string;
  /** null when the row does not record it. */
  size: number | null;
}

/**
 * The files of a location's canonical chain, oldest first (reference §5.6):
 * what a SQL query or a derived step reads of a table. Forked and superseded
 * files are left out, so a reorg repaired in the raw table is repaired here.
 */
export async function listCanonicalFiles(db: Db, location: { id: number; path: string }, startBlock: number): Promise<CanonicalFile[]> {
  const chain = canonicalChain(await listChainFiles(db, location.id), startBlock);
  return chain.map(({ fileId, range, hash, prevHash, network, fileName, objectSize }) => ({
    fileId,
    range,
    hash,
    prevHash,
    network,
    key: fileObjectKey(location.path, fileName),
    size: objectSize,
  }));
}
