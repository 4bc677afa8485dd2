/**
 * Interface counters of a process's network namespace from /proc/<pid>/net/dev (the kernel's
 * dev_seq_show), for GET /containers/{id}/stats: a file read instead of an `ip -s link` spawn per
 * sample. Columns: receive bytes packets errs drop fifo frame compressed multicast, then transmit
 * bytes packets errs drop fifo colls carrier compressed. The loopback is left out, as Docker's
 * sandbox statistics cover only the container's endpoints.
 */
import { readFile } from 'node:fs/promises';

export function parseProcNetDev(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (name === '' || name === 'lo' || f.length < 16) continue;
    out[name] = {
      rx_bytes: f[0] ?? 0,
      rx_packets: f[1] ?? 0,
      rx_errors: f[2] ?? 0,
      rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0,
      tx_packets: f[9] ?? 0,
      tx_errors: f[10] ?? 0,
      tx_dropped: f[11] ?? 0,
    };
  }
  return out;
}

export async function processInterfaceCounters(pid: number): Promise<Record<string, Record<string, number>>> {
  return parseProcNetDev(await readFile(`/proc/${pid}/net/dev`, 'utf8'));
}
