/**
 * `amp-edge <noun> <verb>`: the admin API from a terminal or a script, with
 * ampctl's vocabulary. Only HTTP to the API (plus the local `manifest
 * generate`); nothing here touches D1 or R2.
 */
import { Command, CommanderError } from "commander";
import { ApiFailure } from "./api-client";
import { CommandFailure, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from "./cli-errors";
import { registerDatasetCommands } from "./commands/datasets";
import { registerJobCommands } from "./commands/jobs";
import { registerManifestCommands } from "./commands/manifests";
import { registerProviderCommands } from "./commands/providers";
import { registerQueryCommand } from "./commands/query";
import { registerScheduleCommands } from "./commands/schedules";
import { registerStorageCommands } from "./commands/storage";
import { registerWorkerCommands } from "./commands/workers";
import { DEFAULT_URL, type Io } from "./context";
import { runnerFor } from "./runner";

function program(io: Io): Command {
  const root = new Command("amp-edge")
    .description("amp-edge's admin API from the command line")
    .option("--url <url>", `the admin API's URL (env AMP_URL; default ${DEFAULT_URL})`)
    .option("--token <token>", "bearer token: the admin token, or the read token for reading (env AMP_TOKEN)")
    .option("--json", "print JSON for scripts instead of tables")
    .showHelpAfterError()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride();
  const run = runnerFor(io);
  registerProviderCommands(root, run);
  registerManifestCommands(root, run);
  registerDatasetCommands(root, run);
  registerJobCommands(root, run);
  registerStorageCommands(root, run);
  registerWorkerCommands(root, run);
  registerScheduleCommands(root, run);
  registerQueryCommand(root, run);
  // Every subcommand inherits the overrides: their usage errors must come back here too, not exit on their own.
  for (const command of root.commands) {
    command.exitOverride().showHelpAfterError();
    for (const verb of command.commands) verb.exitOverride();
  }
  return root;
}

/** Runs one command line; the exit code: 0 ok, 1 failed (API error, failed job), 2 bad usage. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  try {
    await program(io).parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end "successfully"; everything else commander refuses is usage.
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help" ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ApiFailure) {
      io.stderr.write(`error: ${error.code}: ${error.message}\n`);
      return EXIT_FAILED;
    }
    if (error instanceof CommandFailure) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT_FAILED;
    }
    throw error;
  }
}
