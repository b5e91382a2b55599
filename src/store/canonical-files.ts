import { type Segment, canonicalChain } from "../domain/canonical-chain";
import type { Db } from "./db";
import type { ChainFile } from "./files";
import { readLocationChain } from "./invalidations";
import { fileObjectKey } from "./r2-layout";

/** A file of a table's canonical chain as a reader needs it: its R2 key, size and block range. */
export interface CanonicalFile extends Segment {
  key: string;
  /** null when the row does not record it. */
  size: number | null;
}

/**
 * The files of a location's canonical chain with their rows' fields, oldest first (reference §5.6), chosen
 * with the location's invalidations: forked, superseded and invalidated files are left out.
 */
export async function canonicalChainFiles(db: Db, locationId: number, startBlock: number): Promise<readonly ChainFile[]> {
  const chain = await readLocationChain(db, locationId);
  return canonicalChain(chain.files, startBlock, chain.invalidations);
}

/**
 * The files of a location's canonical chain, oldest first: what a SQL query or a derived step reads of a
 * table. A reorg repaired in the raw table is repaired here, and an invalidated range stops being read.
 */
export async function listCanonicalFiles(db: Db, location: { id: number; path: string }, startBlock: number): Promise<CanonicalFile[]> {
  const chain = await canonicalChainFiles(db, location.id, startBlock);
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
