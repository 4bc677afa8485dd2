/**
 * Docker's progress display (docker/cli jsonmessage.DisplayJSONMessagesStream): on a terminal,
 * one line per layer id, rewritten in place with cursor movements as its status changes; not on
 * a terminal, one line per status change, without the progress bars.
 */
import type { JsonMessage } from '../api/types/index.ts';

export interface ProgressOut {
  write(s: string): unknown;
  isTTY?: boolean;
}

export async function displayProgress(
  messages: AsyncIterable<JsonMessage>,
  out: ProgressOut,
  options: { quiet?: boolean; onAux?: (aux: Record<string, unknown>) => void } = {},
): Promise<void> {
  const tty = !!out.isTTY;
  const lines = new Map<string, number>();
  let total = 0;
  for await (const m of messages) {
    if (m.aux) {
      options.onAux?.(m.aux);
      continue;
    }
    if (options.quiet) continue;
    if (m.stream !== undefined) {
      out.write(m.stream);
      continue;
    }
    const hasProgress = m.progressDetail?.current !== undefined || !!m.progress;
    const text = `${m.id ? `${m.id}: ` : ''}${m.status ?? ''}${tty && m.progress ? ` ${m.progress}` : ''}`;
    if (!tty) {
      if (!hasProgress && (m.status || m.id)) out.write(`${text}\n`);
      continue;
    }
    if (m.id && lines.has(m.id)) {
      const up = total - lines.get(m.id)!;
      out.write(`\x1b[${up}A\x1b[2K\r${text}\x1b[${up}B\r`);
      continue;
    }
    if (m.id) lines.set(m.id, total);
    out.write(`\x1b[2K\r${text}\n`);
    total++;
  }
}
