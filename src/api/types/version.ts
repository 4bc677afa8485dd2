/**
 * The Engine API versions berthd serves. Clients negotiate down to at most CURRENT via
 * `GET /_ping` (header `API-Version`) and may send any version from MIN up in the URL (`/v1.41/…`).
 */
export const API_VERSION_CURRENT = '1.41';
export const API_VERSION_MIN = '1.24';
/** berth's own release. */
export const BERTH_VERSION = '0.1.0';

/** Compares dotted API versions: negative when a < b, 0 when equal, positive when a > b. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
