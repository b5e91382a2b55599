/**
 * Dataset references as ampctl writes them: `namespace/name` for a dataset,
 * `namespace/name@revision` for one of its revisions (a version, `latest`,
 * `dev` or a manifest hash; `latest` when left out). The API checks the
 * parts; here only the shape is.
 */
import { UsageError } from "./cli-errors";

export interface DatasetName {
  namespace: string;
  name: string;
}

export interface DatasetReference extends DatasetName {
  revision: string;
}

const NAME = /^([^/@\s]+)\/([^/@\s]+)$/;
const REFERENCE = /^([^/@\s]+)\/([^/@\s]+)(?:@([^/@\s]+))?$/;

export function parseDatasetName(text: string): DatasetName {
  const match = NAME.exec(text);
  if (!match) throw new UsageError(`'${text}' is not a dataset name: write <namespace>/<name>, e.g. _/anvil`);
  return { namespace: match[1]!, name: match[2]! };
}

export function parseDatasetReference(text: string): DatasetReference {
  const match = REFERENCE.exec(text);
  if (!match) throw new UsageError(`'${text}' is not a dataset reference: write <namespace>/<name>[@<version|latest|dev|hash>], e.g. _/anvil@1.0.0`);
  return { namespace: match[1]!, name: match[2]!, revision: match[3] ?? "latest" };
}

/** The API path of a dataset, or of one of its revisions. */
export function datasetPath(dataset: DatasetName): string {
  return `/datasets/${encodeURIComponent(dataset.namespace)}/${encodeURIComponent(dataset.name)}`;
}

export function revisionPath(reference: DatasetReference): string {
  return `${datasetPath(reference)}/versions/${encodeURIComponent(reference.revision)}`;
}

/** A positive integer id argument (job, location, file). */
export function parseId(what: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) throw new UsageError(`${what} must be a positive integer, not '${text}'`);
  return Number(text);
}

/** A non-negative integer option. */
export function parseCount(what: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`${what} must be a non-negative integer, not '${text}'`);
  return Number(text);
}
