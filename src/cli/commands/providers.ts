/** `provider register|list|inspect|rm`: RPC endpoints jobs extract from. */
import type { Command } from "commander";
import { emit, printFields, printLine, printTable } from "../output";
import { readJsonFile } from "../local-files";
import type { Runner } from "../runner";

interface ProviderInfo {
  name: string;
  kind: string;
  network: string;
  [field: string]: unknown;
}

const providerPath = (name: string) => `/providers/${encodeURIComponent(name)}`;

export function registerProviderCommands(program: Command, run: Runner): void {
  const provider = program.command("provider").description("RPC providers: where raw data comes from");

  provider
    .command("register <name> <file>")
    .description("register a provider from a JSON file of its configuration: kind, network, url, ... (the name comes from the argument)")
    .action(run(async ({ client, out }, name: string, file: string) => {
      const config = await readJsonFile(file);
      await client.json("POST", "/providers", { body: { ...config, name } });
      emit(out, { name }, () => printLine(out, `registered provider ${name}`));
    }));

  provider
    .command("list")
    .description("list providers (secrets redacted)")
    .action(run(async ({ client, out }) => {
      const { providers } = await client.get<{ providers: ProviderInfo[] }>("/providers");
      emit(out, providers, () => printTable(out, ["name", "kind", "network", "url"], providers.map((p) => [p.name, p.kind, p.network, typeof p.url === "string" ? p.url : null])));
    }));

  provider
    .command("inspect <name>")
    .description("one provider's configuration (secrets redacted)")
    .action(run(async ({ client, out }, name: string) => {
      const info = await client.get<ProviderInfo>(providerPath(name));
      emit(out, info, () => printFields(out, info));
    }));

  provider
    .command("rm <name>")
    .description("delete a provider (no error when it does not exist)")
    .action(run(async ({ client, out }, name: string) => {
      await client.json("DELETE", providerPath(name));
      emit(out, { name, deleted: true }, () => printLine(out, `deleted provider ${name}`));
    }));
}
