/** `worker list|inspect`: the executors (queue consumers, JobRunners) and their heartbeats. */
import type { Command } from "commander";
import { emit, printFields, printTable } from "../output";
import type { Runner } from "../runner";

export function registerWorkerCommands(program: Command, run: Runner): void {
  const worker = program.command("worker").description("workers: queue consumers and JobRunners");

  worker
    .command("list")
    .description("workers, newest heartbeat first")
    .action(run(async ({ client, out }) => {
      const { workers } = await client.get<{ workers: { node_id: string; heartbeat_at: string }[] }>("/workers");
      emit(out, workers, () => printTable(out, ["node_id", "heartbeat_at"], workers.map((w) => [w.node_id, w.heartbeat_at])));
    }));

  worker
    .command("inspect <id>")
    .description("one worker: its version, registration and heartbeat")
    .action(run(async ({ client, out }, id: string) => {
      const info = await client.get<Record<string, unknown>>(`/workers/${encodeURIComponent(id)}`);
      emit(out, info, () => printFields(out, info));
    }));
}
