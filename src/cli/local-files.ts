/** Files the CLI reads from the user's disk (manifests, provider configurations). */
import { readFile } from "node:fs/promises";
import { CommandFailure } from "./cli-errors";

/** The text of a file, or of standard input for "-". */
export async function readTextFile(path: string): Promise<string> {
  try {
    return path === "-" ? await readStdin() : await readFile(path, "utf8");
  } catch (error) {
    throw new CommandFailure(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A JSON object from a file, or "-" for standard input. */
export async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  const text = await readTextFile(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(`${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CommandFailure(`${path} does not hold a JSON object`);
  return value as Record<string, unknown>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
