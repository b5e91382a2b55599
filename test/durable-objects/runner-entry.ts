/**
 * The Worker the JobRunner tests run against: the real JobRunner class and a
 * queue handler that only records what reaches the STEPS queue. The tests
 * play the consumer's part themselves (claim, complete, fail with the leases
 * the runner stored), so no real consumer may take the messages first.
 */
import { JobRunner } from "../../durable-objects/job-runner";
import type { StepMessage } from "../../src/domain/step-protocol";
import type { Env } from "../../src/env";

export { JobRunner };

/** Every message the STEPS queue delivered, in delivery order. */
export const deliveredMessages: StepMessage[] = [];

export default {
  async queue(batch) {
    for (const message of batch.messages) {
      deliveredMessages.push(message.body);
      message.ack();
    }
  },
} satisfies ExportedHandler<Env, StepMessage>;
