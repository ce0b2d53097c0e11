/**
 * A progress line for long transfers, on a terminal only: bytes done of the
 * total, the rate, and the time left, redrawn in place on stderr.
 */

/** Formats a byte count: 1.5 GiB, 312 MiB, 12 KiB, 7 B. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** Formats seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/** A progress line on `stream`; silent unless `enabled` (a terminal, no --json). */
export class ProgressLine {
  readonly #stream: NodeJS.WritableStream;
  readonly #enabled: boolean;
  readonly #label: string;
  #last: { at: number; done: number } | undefined;
  #rate = 0;
  #drawn = false;

  constructor(stream: NodeJS.WritableStream, enabled: boolean, label: string) {
    this.#stream = stream;
    this.#enabled = enabled;
    this.#label = label;
  }

  /** Redraws with `done` of `total` bytes (and an optional note, e.g. "2/4 items"). */
  update(done: number, total: number, note = ""): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (this.#last !== undefined && now > this.#last.at) {
      const instant = ((done - this.#last.done) * 1000) / (now - this.#last.at);
      this.#rate = this.#rate === 0 ? instant : 0.7 * this.#rate + 0.3 * instant; // smoothed
    }
    this.#last = { at: now, done };
    const left = this.#rate > 0 ? (total - done) / this.#rate : Number.NaN;
    const percent = total === 0 ? 100 : Math.floor((100 * done) / total);
    const line = `${this.#label} ${note}${note === "" ? "" : "  "}${formatBytes(done)} of ${formatBytes(total)} (${percent}%)  ${formatBytes(this.#rate)}/s  ${formatDuration(left)} left`;
    this.#stream.write(`\r\u001b[2K${line}`);
    this.#drawn = true;
  }

  /** Ends the line. */
  finish(): void {
    if (this.#drawn) this.#stream.write("\n");
    this.#drawn = false;
  }
}
