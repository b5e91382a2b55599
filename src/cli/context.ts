/** What every command runs with: the API connection from --url/--token or AMP_URL/AMP_TOKEN, and where and how to print. */
import type { Command } from "commander";
import { AdminClient } from "./api-client";
import type { Output } from "./output";

/** `npm run dev`'s address. */
export const DEFAULT_URL = "http://localhost:8787";

export interface Context {
  client: AdminClient;
  out: Output;
}

interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
}

export function contextOf(command: Command, io: Io): Context {
  const options = command.optsWithGlobals<GlobalOptions>();
  const url = (options.url ?? io.env.AMP_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  const token = options.token ?? (io.env.AMP_TOKEN || undefined);
  return { client: new AdminClient({ url, token }), out: { json: options.json === true, stdout: io.stdout, stderr: io.stderr } };
}
