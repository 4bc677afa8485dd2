/**
 * The daemon's defaults for containers (dockerd --init, --no-new-privileges, --seccomp-profile,
 * --default-ulimit, --dns, --dns-search, --dns-opt): applied when a container starts, where
 * the container itself says nothing, as dockerd applies them when it generates the spec.
 */
import type { HostConfig } from '../../api/types/index.ts';
import type { OciContext } from '../spec/index.ts';

export interface ContainerDefaults {
  init?: boolean;
  noNewPrivileges?: boolean;
  /** `unconfined`, a profile's JSON text (read at daemon start), or undefined: the builtin one. */
  seccompProfile?: string;
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** Decided at create, stored in HostConfig (dockerd --default-cgroupns-mode, --default-ipc-mode, --default-shm-size). */
  cgroupnsMode?: 'host' | 'private';
  ipcMode?: 'private' | 'shareable';
  shmSize?: number;
}

/** The OciContext fields the defaults set for one container. */
export function defaultsContext(d: ContainerDefaults, hc: HostConfig): Partial<OciContext> {
  // `--security-opt no-new-privileges=false` turns the daemon's default off for a container.
  const nnpOff = (hc.SecurityOpt ?? []).some((o) =>
    /^no-new-privileges[=:](0|f|F|false|FALSE|False)$/.test(o),
  );
  return {
    ...(d.init ? { initByDefault: true } : {}),
    ...(d.noNewPrivileges && !nnpOff ? { noNewPrivilegesByDefault: true } : {}),
    ...(d.seccompProfile !== undefined ? { defaultSeccompProfile: d.seccompProfile } : {}),
    ...(d.ulimits?.length ? { defaultUlimits: d.ulimits } : {}),
  };
}

/** resolv.conf settings: the container's own, else the daemon's, per field. */
export function dnsSettings(
  d: ContainerDefaults,
  own: { dns?: string[] | null; search?: string[] | null; options?: string[] | null },
): { dns: string[]; search: string[]; options: string[] } {
  const pick = (mine: string[] | null | undefined, daemon: string[] | undefined) =>
    mine?.length ? [...mine] : [...(daemon ?? [])];
  return {
    dns: pick(own.dns, d.dns),
    search: pick(own.search, d.dnsSearch),
    options: pick(own.options, d.dnsOptions),
  };
}
