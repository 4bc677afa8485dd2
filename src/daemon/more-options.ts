/**
 * dockerd's remaining daemon-wide settings, as flags and daemon.json keys:
 * --experimental, --log-format, --exec-opt, --storage-opt, --feature, --selinux-enabled,
 * --metrics-addr and daemon.json's "builder". Each is checked with dockerd's words; what berth
 * cannot do here is refused at start with a precise reason rather than ignored.
 */
import { existsSync } from 'node:fs';
import { invalidParameter } from '../common/index.ts';
import type { DaemonFileConfig } from './config-file.ts';
import { type BuilderGcConfig, parseBuilderConfig } from './builder-config.ts';

export interface MoreDaemonOptions {
  /** --experimental: reported by /version, /info and the Docker-Experimental header. */
  experimental: boolean;
  /** --log-format: berthd's own log lines as logrus text (`time=… level=… msg=…`) or JSON. */
  logFormat: 'text' | 'json';
  /** --exec-opt native.cgroupdriver: berth drives cgroupfs only. */
  cgroupDriver: 'cgroupfs';
  /** --storage-opt: overlay2 options (none is usable here; see storageOptions). */
  storageOpts: string[];
  /** --feature / "features": name → enabled. */
  features: Record<string, boolean>;
  /** daemon.json "builder": the build cache's garbage collection. */
  builderGc: BuilderGcConfig;
  /** --selinux-enabled: accepted; without SELinux on the host dockerd warns and goes on. */
  selinuxEnabled: boolean;
  /** --metrics-addr host:port: Prometheus metrics at http://addr/metrics; undefined: off. */
  metricsAddr?: { host: string; port: number };
}

/** Flags this file adds to berthd's command line (merged into options.ts's table). */
export const MORE_FLAG_OPTIONS = {
  experimental: { type: 'boolean' },
  'log-format': { type: 'string' },
  'exec-opt': { type: 'string', multiple: true },
  'storage-opt': { type: 'string', multiple: true },
  feature: { type: 'string', multiple: true },
  'selinux-enabled': { type: 'boolean' },
  'metrics-addr': { type: 'string' },
} as const;

export const MORE_USAGE = `      --experimental       Enable experimental features
      --log-format string  Set the logging format ("text"|"json") (default "json")
      --exec-opt list      Runtime execution options (native.cgroupdriver=cgroupfs)
      --storage-opt list   Storage driver options
      --feature map        Enable feature in the daemon (name[=true|false]; buildkit=false)
      --selinux-enabled    Enable selinux support
      --metrics-addr string  Set default address and port to serve the metrics api on
`;

type Values = Record<string, string | boolean | string[] | undefined>;

export function moreOptions(v: Values, falseFlags: Set<string>, file: DaemonFileConfig): MoreDaemonOptions {
  const bool = (flag: string, key: keyof DaemonFileConfig): boolean =>
    falseFlags.has(flag)
      ? false
      : ((v[flag] as boolean | undefined) ?? (file[key] as boolean | undefined) ?? false);
  const execOpts = (v['exec-opt'] as string[] | undefined) ?? file['exec-opts'] ?? [];
  const storageOpts = (v['storage-opt'] as string[] | undefined) ?? file['storage-opts'] ?? [];
  const metrics = (v['metrics-addr'] as string | undefined) ?? file['metrics-addr'];
  return {
    experimental: bool('experimental', 'experimental'),
    logFormat: logFormat((v['log-format'] as string | undefined) ?? file['log-format']),
    cgroupDriver: cgroupDriver(execOpts),
    storageOpts: checkStorageOpts(storageOpts),
    features: features(v.feature as string[] | undefined, file.features),
    builderGc: parseBuilderConfig(file.builder),
    selinuxEnabled: bool('selinux-enabled', 'selinux-enabled'),
    ...(metrics ? { metricsAddr: metricsAddress(metrics) } : {}),
  };
}

/** dockerd's validateDaemonLogConfig. berth's default stays JSON (dockerd's is text). */
export function logFormat(value: string | undefined): 'text' | 'json' {
  if (value === undefined || value === '') return 'json';
  if (value !== 'text' && value !== 'json') throw invalidParameter(`invalid log format: ${value}`);
  return value;
}

/**
 * dockerd's parseExecOptions and verifyCgroupDriver. `native.cgroupdriver=systemd` would have
 * systemd create the cgroups over D-Bus: berth has no such driver, so it is refused (with the
 * reason runc gives when systemd is not this host's init).
 */
export function cgroupDriver(
  execOpts: string[],
  systemdRunning = existsSync('/run/systemd/system'),
): 'cgroupfs' {
  const opts = new Map<string, string>();
  for (const kv of execOpts) {
    const i = kv.indexOf('=');
    const k = (i < 0 ? kv : kv.slice(0, i)).trim().toLowerCase();
    const val = i < 0 ? '' : kv.slice(i + 1).trim();
    if (i < 0 || !k || !val)
      throw invalidParameter(`invalid exec-opt (${kv}): must be formatted 'opt=value'`);
    if (k === 'isolation') {
      throw invalidParameter(`invalid exec-opt (${kv}): option '${k}' is only supported on windows`);
    }
    if (k !== 'native.cgroupdriver')
      throw invalidParameter(`invalid exec-opt (${kv}): unknown option: '${k}'`);
    opts.set(k, val);
  }
  const cd = opts.get('native.cgroupdriver') ?? '';
  if (cd === '' || cd === 'cgroupfs') return 'cgroupfs';
  if (cd === 'none') {
    throw invalidParameter(
      `native.cgroupdriver option ${cd} is internally used and cannot be specified manually`,
    );
  }
  if (cd !== 'systemd') throw invalidParameter(`native.cgroupdriver option ${cd} not supported`);
  throw invalidParameter(
    systemdRunning
      ? 'native.cgroupdriver=systemd is not supported by berth: it manages cgroups through cgroupfs only (use native.cgroupdriver=cgroupfs)'
      : 'native.cgroupdriver=systemd: systemd not running on this host, cannot use systemd cgroups manager (use native.cgroupdriver=cgroupfs)',
  );
}

/**
 * overlay2's options (moby graphdriver/overlay2 parseOptions): `overlay2.size` needs xfs project
 * quotas, which berth does not set (dockerd's own error when the backing filesystem is not xfs).
 * `overlay2.override_kernel_check` is accepted and has no effect, as in dockerd 20.10 (Docker 28
 * dropped it). Anything else is dockerd's "unknown option".
 */
export function checkStorageOpts(opts: string[], backingFs?: string): string[] {
  for (const opt of opts) {
    const i = opt.indexOf('=');
    if (i < 0) throw invalidParameter(`unable to parse storage-opt key/value: ${opt}`);
    const key = opt.slice(0, i).trim().toLowerCase();
    if (key === 'overlay2.override_kernel_check') {
      if (!/^(1|0|t|f|true|false)$/i.test(opt.slice(i + 1).trim())) {
        throw invalidParameter(`invalid value for ${key}: ${opt.slice(i + 1)}`);
      }
      continue;
    }
    if (key !== 'overlay2.size') throw invalidParameter(`overlay2: unknown option ${key}`);
    if (!/^\d+(\.\d+)?\s*([kmgtp]i?)?b?$/i.test(opt.slice(i + 1).trim())) {
      throw invalidParameter(`invalid size: '${opt.slice(i + 1)}'`);
    }
    if (backingFs !== undefined && backingFs !== 'xfs') {
      throw invalidParameter(
        `Storage Option overlay2.size only supported for backingFS XFS. Found ${backingFs}`,
      );
    }
    if (backingFs !== undefined) {
      throw invalidParameter(
        'Storage option overlay2.size not supported. berth does not set xfs project quotas on container layers',
      );
    }
  }
  return opts;
}

/**
 * Features dockerd knows and what berth does with them. Names dockerd does not know are ignored
 * by dockerd too (the map is free-form); berthd logs them.
 */
const FEATURES: Record<string, (on: boolean) => string | undefined> = {
  buildkit: (on) =>
    on
      ? 'features.buildkit: berth serves the classic builder only (Builder-Version 1); BuildKit is not implemented'
      : undefined,
  'containerd-snapshotter': (on) =>
    on ? 'features.containerd-snapshotter: berth stores images itself, without containerd' : undefined,
  'containerd-migration': (on) =>
    on ? 'features.containerd-migration: berth stores images itself, without containerd' : undefined,
  'embedded-containerd': (on) => (on ? 'features.embedded-containerd: berth runs no containerd' : undefined),
  cdi: (on) => (on ? 'features.cdi: CDI device injection is not supported by berth' : undefined),
  'time-namespaces': () => undefined,
  'swarm-nftables': () => undefined,
};

export const KNOWN_FEATURES = new Set(Object.keys(FEATURES));

/** --feature name[=bool] (repeatable; dockerd's NamedSetOpts) over daemon.json's "features". */
export function features(
  flags: string[] | undefined,
  file: Record<string, boolean> | undefined,
): Record<string, boolean> {
  const out: Record<string, boolean> = { ...(file ?? {}) };
  for (const f of flags ?? []) {
    const i = f.indexOf('=');
    const name = (i < 0 ? f : f.slice(0, i)).trim();
    const raw =
      i < 0
        ? 'true'
        : f
            .slice(i + 1)
            .trim()
            .toLowerCase();
    if (!name) throw invalidParameter(`invalid feature: ${f}`);
    if (!['true', 'false', '1', '0'].includes(raw))
      throw invalidParameter(`invalid feature value: ${f}: use true or false`);
    out[name] = raw === 'true' || raw === '1';
  }
  for (const [name, on] of Object.entries(out)) {
    const refusal = FEATURES[name]?.(on);
    if (refusal) throw invalidParameter(refusal);
  }
  return out;
}

/** --metrics-addr host:port (dockerd listens on tcp; `:9323` means every address). */
export function metricsAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidParameter(`invalid metrics-addr ${addr}: use host:port`);
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
