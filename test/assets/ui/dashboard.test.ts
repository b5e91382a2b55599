/**
 * The dashboard (/ui/) in a real headless Chromium (Debian's chromium, driven
 * by playwright-core) against the Worker under `wrangler dev` with auth on and
 * the shared anvil: sign in, watch a deployed job run to COMPLETED with its
 * chart and timeline, stop a continuous job, browse locations, files and
 * schedules, and see that the read token gets every screen but no buttons.
 * Nothing is fetched from anywhere but the Worker. Each screen is saved as a
 * screenshot under test-artifacts/dashboard/.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evmRpcManifest } from "../../../src/domain/manifest/evm-rpc";
import { type DevServer, PROJECT_DIR, startDevServer } from "../../support/dev-server";
import { harness } from "../../support/provided-context";

const ADMIN_TOKEN = "dashboard-admin-token";
const READ_TOKEN = "dashboard-read-token";
const ARTIFACTS = path.join(PROJECT_DIR, "test-artifacts", "dashboard");
/** Debian's chromium package; CHROMIUM_PATH overrides it. */
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const WAIT_MS = 60_000;

const { anvilUrl, chain } = harness();

describe("the dashboard in Chromium", () => {
  let server: DevServer;
  let browser: Browser;
  let page: Page;
  const foreignRequests: string[] = [];

  async function admin(method: string, route: string, body?: unknown): Promise<Response> {
    return fetch(`${server.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  async function signIn(token: string): Promise<void> {
    await page.locator("#token").fill(token);
    await page.locator("#login-form button[type=submit]").click();
    await page.locator("#sign-out").waitFor();
  }

  async function waitForStatus(status: string): Promise<void> {
    await page.locator(`[data-testid=job-status][data-status=${status}]`).waitFor({ timeout: WAIT_MS });
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startDevServer({
      args: ["--var", `AMP_ADMIN_TOKEN:${ADMIN_TOKEN}`, "--var", `AMP_READ_TOKEN:${READ_TOKEN}`, "--var", "AMP_STEP_SIZE:20"],
      startTimeoutMs: 60_000,
    });
    expect((await admin("POST", "/providers", { name: "rpc_anvil", kind: "evm-rpc", network: "anvil", url: anvilUrl })).status).toBe(201);
    expect((await admin("POST", "/datasets", { namespace: "_", name: "anvil", version: "1.0.0", manifest: evmRpcManifest("anvil", { startBlock: 0 }) })).status).toBe(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url)) return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    page = await context.newPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  }, 30_000);

  it("asks for a token, and keeps it for the browser session only", async () => {
    await page.goto(`${server.url}/ui/`);
    await page.locator("#login-form").waitFor();
    await shot("01-sign-in");
    await page.locator("#token").fill("not-the-token");
    await page.locator("#login-form button[type=submit]").click();
    await expect.poll(() => page.locator("#login-form .error").textContent()).toContain("refused");
    await signIn(ADMIN_TOKEN);
    expect(await page.locator("#session").textContent()).toContain("admin token");
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.getItem("amp-edge-token")])).toEqual([0, ADMIN_TOKEN]);
    // A new browser session (a fresh context) starts signed out.
    const other = await browser.newContext();
    const fresh = await other.newPage();
    await fresh.goto(`${server.url}/ui/`);
    await fresh.locator("#login-form").waitFor();
    await other.close();
  });

  it("lists the datasets and deploys one, then shows the job's progress, chart and timeline until COMPLETED", async () => {
    await page.goto(`${server.url}/ui/#/datasets`);
    await page.locator("a", { hasText: "_/anvil" }).click();
    await page.locator("#deploy-form").waitFor();
    await shot("02-datasets-anvil");
    await page.locator("#deploy-form input[name=end_block]").fill("latest");
    await page.locator("#deploy").click();
    await page.locator("[data-testid=job-status]").waitFor();
    await waitForStatus("COMPLETED");
    // Refreshed until every step is in: the chart has drawn, the timeline ends with completed.
    await page.locator("#blocks-chart canvas").waitFor();
    await expect.poll(() => page.locator("[data-testid=events] li").first().textContent()).toContain("completed");
    for (const table of ["blocks", "logs", "transactions"]) {
      expect(await page.locator(`[data-testid=progress] tr[data-table=${table}] [data-testid=current-block]`).textContent()).toBe(chain.head.toLocaleString("en-US"));
    }
    await shot("03-job-completed");
    await page.locator("[data-nav=jobs]").click();
    await page.locator("#view[data-screen=jobs] [data-testid=jobs]").waitFor();
    await shot("04-jobs");
  });

  it("shows locations and their files with sizes and block ranges", async () => {
    await page.locator("[data-nav=locations]").click();
    await page.locator("#view[data-screen=locations] table").waitFor();
    await shot("05-locations");
    await page.locator("main table a", { hasText: "#" }).first().click();
    await page.locator("[data-testid=files]").waitFor();
    const firstFile = page.locator("[data-testid=files] tr").nth(1);
    expect(await firstFile.locator("td").nth(1).textContent()).toBe("0");
    expect(await firstFile.locator("td").nth(3).textContent()).toMatch(/\d+(\.\d)? (B|KiB)/);
    await shot("06-location-files");
  });

  it("stops a continuous job with its button", async () => {
    await page.goto(`${server.url}/ui/#/datasets/_/anvil`);
    await page.locator("#deploy-form input[name=end_block]").fill("");
    await page.locator("#deploy").click();
    await waitForStatus("RUNNING");
    await page.locator("#stop-job").click();
    await waitForStatus("STOPPED");
    expect(await page.locator("#stop-job").count()).toBe(0);
    await shot("07-job-stopped");
  });

  it("lists schedules", async () => {
    expect((await admin("PUT", "/datasets/_/anvil/versions/latest/schedule", { cron: "0 * * * *", timezone: "Europe/Berlin" })).status).toBe(201);
    await page.locator("[data-nav=schedules]").click();
    await page.locator("#view[data-screen=schedules] table").waitFor();
    expect(await page.locator("main table").textContent()).toContain("0 * * * *");
    await shot("08-schedules");
  });

  it("shows everything but the buttons to the read token", async () => {
    await page.locator("#sign-out").click();
    await page.locator("#login-form").waitFor();
    await signIn(READ_TOKEN);
    expect(await page.locator("#session").textContent()).toContain("read-only token");
    await page.goto(`${server.url}/ui/#/datasets/_/anvil`);
    await page.locator("[data-testid=progress]").waitFor();
    expect(await page.locator("#deploy-form").count()).toBe(0);
    await shot("09-read-only-dataset");
    const { jobs } = (await (await admin("GET", "/jobs")).json()) as { jobs: { id: number }[] };
    // A job that could still be stopped shows no stop button to the read token either.
    const running = (await (await admin("POST", "/datasets/_/anvil/versions/latest/deploy", { end_block: null })).json()) as { job_id: number };
    await page.goto(`${server.url}/ui/#/jobs/${running.job_id}`);
    await waitForStatus("RUNNING");
    expect(await page.locator("#stop-job").count()).toBe(0);
    await shot("10-read-only-job");
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    expect((await admin("PUT", `/jobs/${running.job_id}/stop`)).status).toBe(200);
  });

  it("fetched nothing but from the Worker", () => {
    expect(foreignRequests).toEqual([]);
  });
});
