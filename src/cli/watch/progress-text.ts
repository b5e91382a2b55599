/** The words of a table's progress, shared by the bars and the plain lines. */
import { formatBytes, formatDuration } from "../output";
import type { TableView } from "./table-views";

/** Blocks done of the total, with the share: `520/701 (74%)`. */
export function blocksText(view: TableView): string {
  if (view.total === null) return `${view.done}/?`;
  const percent = view.total === 0 ? 100 : Math.floor((100 * Math.min(view.done, view.total)) / view.total);
  return `${view.done}/${view.total} (${percent}%)`;
}

export function rateText(view: TableView): string {
  return view.rate === null ? "- blocks/s" : `${view.rate.toFixed(view.rate < 10 ? 1 : 0)} blocks/s`;
}

export function etaText(view: TableView): string {
  return view.etaSeconds === null ? "ETA -" : `ETA ${formatDuration(view.etaSeconds)}`;
}

export function sizeText(view: TableView): string {
  return `${view.files} files, ${formatBytes(view.bytes)}`;
}

export function headText(view: TableView): string {
  return view.behind === null ? "" : `, ${view.behind} behind head`;
}

export function tableLine(view: TableView): string {
  return `${view.table} ${blocksText(view)} blocks ${rateText(view)} ${etaText(view)} ${sizeText(view)}${headText(view)}`;
}
