/**
 * How a chaos test hands its figures to `npm run chaos` (scripts/chaos.mjs):
 * one console line per test, `CHAOS-FIGURES <json>`, which the script
 * collects from vitest's output and prints as one table.
 */
export type FigureRow = { part: string } & Record<string, number | string>;

export function reportFigures(title: string, rows: FigureRow[]): void {
  console.log(`CHAOS-FIGURES ${JSON.stringify({ title, rows })}`);
}
