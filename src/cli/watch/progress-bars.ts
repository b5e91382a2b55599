/** The terminal display: one live cli-progress bar per table under a status line, redrawn in place. */
import { MultiBar, type SingleBar } from "cli-progress";
import { blocksText, etaText, headText, rateText, sizeText } from "./progress-text";
import type { TableView } from "./table-views";

export interface WatchDisplay {
  show(status: string, views: readonly TableView[]): void;
  /** Leaves the last state on screen and gives the cursor back. */
  stop(): void;
}

export function progressBars(stream: NodeJS.WritableStream): WatchDisplay {
  const bars = new MultiBar({
    stream,
    // Payload names differ from cli-progress's own tokens ({eta}, {value}, {total}), which it would fill itself.
    format: "{table} [{bar}] {blocks} {rate} {eta_text} {size}{head}",
    barsize: 20,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    autopadding: true,
    barCompleteChar: "#",
    barIncompleteChar: "-",
  });
  const status = bars.create(1, 0, { status: "" }, { format: "{status}" });
  const perTable = new Map<string, SingleBar>();
  const width = (views: readonly TableView[]) => Math.max(...views.map((view) => view.table.length));

  return {
    show(text, views) {
      status.update(0, { status: text });
      const pad = width(views);
      for (const view of views) {
        const total = Math.max(1, view.total ?? 1);
        const payload = {
          table: view.table.padEnd(pad),
          blocks: blocksText(view),
          rate: rateText(view),
          eta_text: etaText(view),
          size: sizeText(view),
          head: headText(view),
        };
        const bar = perTable.get(view.table);
        if (bar) {
          bar.setTotal(total);
          bar.update(Math.min(view.done, total), payload);
        } else {
          perTable.set(view.table, bars.create(total, Math.min(view.done, total), payload));
        }
      }
    },
    stop() {
      bars.stop();
    },
  };
}
