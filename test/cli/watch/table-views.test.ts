import { describe, expect, it } from "vitest";
import { etaText, tableLine } from "../../../src/cli/watch/progress-text";
import { type JobProgress, TableViews } from "../../../src/cli/watch/table-views";

function progress(overrides: Partial<JobProgress>, current: number | null, files = 1): JobProgress {
  return {
    job_id: 1,
    job_status: "RUNNING",
    start_block: 100,
    end_block: 1099,
    continuous: false,
    chain_head: 1099,
    tables: { blocks: { start_block: current === null ? null : 100, current_block: current, files_count: files, total_size_bytes: 2048 } },
    ...overrides,
  };
}

describe("TableViews", () => {
  it("counts blocks done of the job's range, and the rate and time left from successive answers", () => {
    const views = new TableViews();
    const [first] = views.update(progress({}, null, 0), 0);
    expect(first).toEqual({ table: "blocks", done: 0, total: 1000, rate: null, etaSeconds: null, files: 0, bytes: 2048, behind: null });
    const [second] = views.update(progress({}, 299), 2000);
    expect(second).toMatchObject({ done: 200, total: 1000, rate: 100, etaSeconds: 8 });
    expect(tableLine(second!)).toBe("blocks 200/1000 (20%) blocks 100 blocks/s ETA 8s 1 files, 2.0 KiB");
  });

  it("has no total while the end block is unresolved", () => {
    const [view] = new TableViews().update(progress({ end_block: null }, null, 0), 0);
    expect(view).toMatchObject({ done: 0, total: null, etaSeconds: null });
    expect(tableLine(view!)).toBe("blocks 0/? blocks - blocks/s ETA - 0 files, 2.0 KiB");
  });

  it("counts a continuous job up to the head, with its distance to it", () => {
    const views = new TableViews();
    const continuous = { continuous: true, end_block: null, chain_head: 1500 };
    expect(views.update(progress(continuous, null, 0), 0)[0]).toMatchObject({ done: 0, total: 1401, behind: 1401 });
    const [view] = views.update(progress(continuous, 1199), 10_000);
    expect(view).toMatchObject({ done: 1100, total: 1401, behind: 301, rate: 110 });
    expect(tableLine(view!)).toMatch(/, 301 behind head$/);
  });

  it("looks back a bounded window for the rate", () => {
    const views = new TableViews();
    views.update(progress({}, null, 0), 0);
    views.update(progress({}, 199), 10_000);
    views.update(progress({}, 299), 20_000);
    // The sample at 0 is older than the window: the rate is that of the last 10 s.
    expect(views.update(progress({}, 399), 30_000)[0]?.rate).toBe(10);
  });

  it("says ETA 0s once done and a dash when nothing moves", () => {
    const views = new TableViews();
    views.update(progress({}, 1099), 0);
    const [done] = views.update(progress({}, 1099), 1000);
    expect(etaText(done!)).toBe("ETA 0s");
    views.update(progress({ end_block: 2099, chain_head: 2099 }, 1099), 2000);
    expect(etaText(views.update(progress({ end_block: 2099, chain_head: 2099 }, 1099), 3000)[0]!)).toBe("ETA -");
  });
});
