import { createApp } from "./api/app";
import type { Env } from "./env";

export { JobRunner } from "../durable-objects/job-runner";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
