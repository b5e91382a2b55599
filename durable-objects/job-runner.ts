import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/** One per job: the only writer of that job's state. Filled in by the jobs work. */
export class JobRunner extends DurableObject<Env> {}
