/**
 * What identifies a Parquet file of a table: its name, derived from its block
 * range and end hash so the same range always gets the same name (and a step
 * delivered twice writes the same object), and the `nozzle_metadata` entry
 * (reference §5.5) it carries and D1 stores.
 */
import type { BlockRange } from "./block-range";

/**
 * `{start:09}-{end:09}-{first 8 hex of the end block hash}.parquet`, e.g. `000000000-000000999-9a71a95b.parquet`;
 * a file rebuilding the blocks of invalidation N ends `-r{N}.parquet`, so it never takes the name (and row) of
 * the invalidated file of the same range and hash, and a rebuild step delivered twice still writes one object.
 */
export function parquetFileName(range: BlockRange, endHash: string, rebuildOf?: number): string {
  const hex = endHash.toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{8,}$/.test(hex)) throw new RangeError(`not a block hash: ${endHash}`);
  const pad = (n: number) => String(n).padStart(9, "0");
  return `${pad(range.start)}-${pad(range.end)}-${hex.slice(0, 8)}${rebuildOf === undefined ? "" : `-r${rebuildOf}`}.parquet`;
}

/** The ParquetMeta JSON of reference §5.5, with exactly one range. */
export interface NozzleMetadata {
  table: string;
  filename: string;
  created_at: { secs: number; nanos: number };
  ranges: [
    {
      numbers: { start: number; end: number };
      network: string;
      /** Hash of the end block, `0x` + lowercase hex. */
      hash: string;
      /** Parent hash of the start block. */
      prev_hash: string | null;
    },
  ];
}

export interface FileIdentity {
  table: string;
  network: string;
  range: BlockRange;
  hash: string;
  prevHash: string | null;
  /** The invalidation the file rebuilds, for its name. */
  rebuildOf?: number;
}

export function nozzleMetadata(file: FileIdentity, createdAtMs: number): NozzleMetadata {
  return {
    table: file.table,
    filename: parquetFileName(file.range, file.hash, file.rebuildOf),
    created_at: { secs: Math.floor(createdAtMs / 1000), nanos: (createdAtMs % 1000) * 1_000_000 },
    ranges: [
      {
        numbers: { start: file.range.start, end: file.range.end },
        network: file.network,
        hash: file.hash.toLowerCase(),
        prev_hash: file.prevHash?.toLowerCase() ?? null,
      },
    ],
  };
}
