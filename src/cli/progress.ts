// A progress bar on stderr for long work, only when stderr is a terminal
// (stdout carries nothing but data). Optional fields show live values.
import cliProgress from "cli-progress";

export interface Progress {
  advance(by: number, fields?: Record<string, string>): void;
  stop(): void;
}

export function progress(label: string, total: number, fields: string[] = []): Progress {
  if (!process.stderr.isTTY || total < 2) return { advance() {}, stop() {} };
  const extra = fields.map((f) => ` | ${f} {${f}}`).join("");
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total}${extra} | {eta_formatted} left`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, Object.fromEntries(fields.map((f) => [f, "-"])));
  return { advance: (by, payload) => bar.increment(by, payload), stop: () => bar.stop() };
}
