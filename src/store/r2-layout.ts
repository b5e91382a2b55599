/**
 * The R2 key layout: manifests by hash, and each location's Parquet objects.
 * A location's `path` is relative to the data root,
 * `<dataset_name>/<table>/<revision>/` as in the original (reference §4.3);
 * its `url` is absolute, so `url + file_name` names the object and
 * `wrangler r2 object get <bucket>/<key>` fetches it.
 *
 *   manifest key = manifests/<hash>
 *   file key     = data/<dataset_name>/<table>/<revision>/<file_name>
 *   location url = r2://<bucket>/data/<dataset_name>/<table>/<revision>/
 */

const MANIFEST_ROOT = "manifests/";
const DATA_ROOT = "data/";

/** The key of a manifest's canonical JSON: content-addressed by its hash. */
export function manifestObjectKey(hash: string): string {
  return `${MANIFEST_ROOT}${hash}`;
}

const SEGMENT = /^(?!\.{1,2}$)[^/]+$/;

function checkSegment(what: string, value: string): void {
  if (!SEGMENT.test(value)) throw new Error(`invalid ${what} for an R2 key: ${JSON.stringify(value)}`);
}

/** The path of a new location of `table`; `revision` is unique per location (a UUID). */
export function locationPath(datasetName: string, table: string, revision: string): string {
  checkSegment("dataset name", datasetName);
  checkSegment("table name", table);
  checkSegment("revision", revision);
  return `${datasetName}/${table}/${revision}/`;
}

/** The absolute URL of a location stored at `path` in `bucket`. */
export function locationUrl(bucket: string, path: string): string {
  checkSegment("bucket name", bucket);
  return `r2://${bucket}/${locationObjectPrefix(path)}`;
}

/**
 * The key prefix of every object of the location stored at `path`. A stored
 * path that is not exactly three non-empty segments is refused, so a bad row
 * can never widen a listing or a deletion to other locations' objects.
 */
export function locationObjectPrefix(path: string): string {
  const segments = path.split("/");
  if (segments.length !== 4 || segments[3] !== "") throw new Error(`invalid location path: ${JSON.stringify(path)}`);
  for (const segment of segments.slice(0, 3)) checkSegment("location path segment", segment);
  return `${DATA_ROOT}${path}`;
}

/** The object key of the file `fileName` of the location stored at `path`. */
export function fileObjectKey(path: string, fileName: string): string {
  checkSegment("file name", fileName);
  return `${locationObjectPrefix(path)}${fileName}`;
}

/** The key prefix under which every location of `table` of dataset `datasetName` has its own prefix. */
export function tableObjectPrefix(datasetName: string, table: string): string {
  checkSegment("dataset name", datasetName);
  checkSegment("table name", table);
  return `${DATA_ROOT}${datasetName}/${table}/`;
}

/** The location path a key prefix `data/<dataset_name>/<table>/<revision>/` stands for; null for any other key. */
export function locationPathOfPrefix(prefix: string): string | null {
  if (!prefix.startsWith(DATA_ROOT)) return null;
  const path = prefix.slice(DATA_ROOT.length);
  try {
    locationObjectPrefix(path);
    return path;
  } catch {
    return null;
  }
}
