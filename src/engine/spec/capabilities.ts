/**
 * Linux capabilities as Docker applies them (moby daemon/pkg/oci/caps): a default set of 14,
 * adjusted by --cap-add/--cap-drop (names with or without `CAP_`, any case, or `ALL`), or every
 * capability for --privileged.
 */
import { invalidParameter } from '../../common/index.ts';
import { LINUX_CAPABILITIES } from '../../oci/index.ts';

/** Every Linux capability, in kernel number order (CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40). */
export const ALL_CAPABILITIES: readonly string[] = LINUX_CAPABILITIES;

/** Docker's default set, in Docker's order (daemon/pkg/oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * `net_admin`, `CAP_NET_ADMIN`, `all` → `CAP_NET_ADMIN`, `ALL`. Throws InvalidParameter
 * `unknown capability: "CAP_X"` (Docker's text; validateCreate prefixes `invalid CapAdd: `).
 */
export function normalizeCapabilities(caps: readonly string[]): string[] {
  return caps.map((c) => {
    let name = c.toUpperCase();
    if (name === 'ALL') return name;
    if (!name.startsWith('CAP_')) name = `CAP_${name}`;
    if (!ALL_CAPABILITIES.includes(name)) throw invalidParameter(`unknown capability: "${name}"`);
    return name;
  });
}

/**
 * The container's capability set (caps.TweakCapabilities): privileged → all; `--cap-add ALL`
 * → all minus the drops; `--cap-drop ALL` → only the adds; otherwise defaults minus drops plus
 * adds (deduplicated; Docker may list a default twice, which changes nothing).
 */
export function tweakCapabilities(
  adds: readonly string[],
  drops: readonly string[],
  privileged: boolean,
): string[] {
  if (privileged) return [...ALL_CAPABILITIES];
  const capAdd = normalizeCapabilities(adds);
  const capDrop = normalizeCapabilities(drops);
  let caps: string[];
  if (capAdd.includes('ALL')) {
    caps = ALL_CAPABILITIES.filter((c) => !capDrop.includes(c));
  } else if (capDrop.includes('ALL')) {
    caps = [...capAdd];
  } else {
    caps = [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd];
  }
  return [...new Set(caps)];
}
