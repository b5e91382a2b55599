/** Turns a command's work into a commander action: the context is made from the command's global options when it runs. */
import type { Command } from "commander";
import { type Context, contextOf, type Io } from "./context";

export type Runner = <P extends unknown[]>(work: (context: Context, ...args: P) => Promise<void>) => (...args: P) => Promise<void>;

export function runnerFor(io: Io): Runner {
  return (work) =>
    async (...args) => {
      // commander passes the declared arguments, the options, then the command itself.
      const command = args[args.length - 1] as Command;
      await work(contextOf(command, io), ...args);
    };
}
