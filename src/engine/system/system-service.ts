/** GET /version and GET /info: what the daemon is and what it holds. */
import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import type { SystemInfo, SystemVersion } from '../../api/types/index.ts';
import { API_VERSION_CURRENT, API_VERSION_MIN, BERTH_VERSION } from '../../api/types/index.ts';
import type { SystemService } from '../engine.ts';
import type { HostFacts } from '../spec/index.ts';
import type { RuntimeTable } from '../containers/runtimes.ts';
import { bridgeNfCall, ipForwardEnabled } from '../../network/index.ts';

export interface SystemFacts {
  id: string;
  dataRoot: string;
  cgroupVersion: 1 | 2;
  /** berthd --insecure-registry and --registry-mirror. */
  registry: { insecure: string[]; mirrors: string[] };
  /** berthd --label. */
  labels: string[];
  /** What info's SecurityOptions name: the daemon's seccomp profile and no-new-privileges default. */
  security: { seccompProfile: string; noNewPrivileges: boolean; cgroupnsPrivate: boolean };
  /** What the cgroup controllers can limit here, probed once at start. */
  host: HostFacts;
  /** The OCI runtimes (docker info's Runtimes, DefaultRuntime). */
  runtimes?: RuntimeTable;
  counts: () => { containers: number; running: number; paused: number; stopped: number; images: number };
  eventListeners: () => number;
  /** The daemon runs containers in user namespaces (--userns-remap): `name=userns` in SecurityOptions. */
  usernsRemap?: boolean;
  /** berthd --experimental: /version's Experimental and info's ExperimentalBuild. */
  experimental?: boolean;
  /** The data root's filesystem as dockerd names it (`extfs`, `xfs`, …): info's DriverStatus. */
  backingFilesystem?: string;
}

const goArch = (a: string) => (a === 'x64' ? 'amd64' : a === 'arm64' ? 'arm64' : a);

export class System implements SystemService {
  readonly #f: SystemFacts;
  #osName: string | undefined;

  constructor(facts: SystemFacts) {
    this.#f = facts;
  }

  version(): SystemVersion {
    return {
      Platform: { Name: 'berth' },
      Components: [
        {
          Name: 'Engine',
          Version: BERTH_VERSION,
          Details: {
            ApiVersion: API_VERSION_CURRENT,
            MinAPIVersion: API_VERSION_MIN,
            Os: 'linux',
            Arch: goArch(arch()),
            KernelVersion: release(),
            NodeVersion: process.version,
            // dockerd's Engine details carry it as text; `docker version` prints this one.
            Experimental: String(this.#f.experimental === true),
          },
        },
      ],
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION_CURRENT,
      ...(this.#f.experimental ? { Experimental: true } : {}),
      MinAPIVersion: API_VERSION_MIN,
      GitCommit: 'berth',
      GoVersion: process.version,
      Os: 'linux',
      Arch: goArch(arch()),
      KernelVersion: release(),
      BuildTime: '',
    };
  }

  async info(): Promise<SystemInfo> {
    const n = this.#f.counts();
    this.#osName ??= await osName();
    return {
      ID: this.#f.id,
      Containers: n.containers,
      ContainersRunning: n.running,
      ContainersPaused: n.paused,
      ContainersStopped: n.stopped,
      Images: n.images,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', this.#f.backingFilesystem ?? 'extfs']],
      DockerRootDir: this.#f.dataRoot,
      Plugins: {
        Volume: ['local'],
        Network: ['bridge', 'host', 'none'],
        Authorization: null,
        Log: ['json-file', 'none'],
      },
      MemoryLimit: true,
      SwapLimit: this.#f.host.swapLimit === true,
      KernelMemory: this.#f.host.kernelMemory === true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      OomKillDisable: this.#f.host.oomKillDisable === true,
      IPv4Forwarding: await ipForwardEnabled(),
      BridgeNfIptables: await bridgeNfCall('iptables'),
      BridgeNfIp6tables: await bridgeNfCall('ip6tables'),
      Debug: false,
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: String(this.#f.cgroupVersion),
      NEventsListener: this.#f.eventListeners(),
      KernelVersion: release(),
      OperatingSystem: this.#osName,
      OSVersion: '',
      OSType: 'linux',
      Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      NCPU: cpus().length,
      MemTotal: totalmem(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(this.#f.registry),
      GenericResources: null,
      HttpProxy: process.env.HTTP_PROXY ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? '',
      NoProxy: process.env.NO_PROXY ?? '',
      Name: hostname(),
      Labels: this.#f.labels,
      ExperimentalBuild: this.#f.experimental === true,
      ServerVersion: BERTH_VERSION,
      Runtimes: this.#f.runtimes?.runtimes ?? { berth: { path: 'berth-shim' } },
      DefaultRuntime: this.#f.runtimes?.defaultRuntime ?? 'berth',
      Swarm: {
        NodeID: '',
        NodeAddr: '',
        LocalNodeState: 'inactive',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: null,
      },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: securityOptions(this.#f),
      Warnings: null,
    };
  }
}

async function osName(): Promise<string> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/**
 * dockerd's registry.ServiceConfig as info shows it: CIDR entries (and loopback) in
 * InsecureRegistryCIDRs, host entries as insecure index configs, mirrors on docker.io.
 */
function registryConfig(r: { insecure: string[]; mirrors: string[] }): SystemInfo['RegistryConfig'] {
  const cidrs = ['127.0.0.0/8', ...r.insecure.filter((e) => e.includes('/'))];
  const indexConfigs: SystemInfo['RegistryConfig']['IndexConfigs'] = {};
  for (const host of r.insecure.filter((e) => !e.includes('/'))) {
    indexConfigs[host] = { Name: host, Mirrors: [], Secure: false, Official: false };
  }
  indexConfigs['docker.io'] = { Name: 'docker.io', Mirrors: r.mirrors, Secure: true, Official: true };
  return { InsecureRegistryCIDRs: [...new Set(cidrs)], IndexConfigs: indexConfigs, Mirrors: r.mirrors };
}

/**
 * dockerd's info SecurityOptions: seccomp with its profile (when the kernel has seccomp),
 * no-new-privileges when it is the default, cgroupns where containers get a private cgroup
 * namespace by default (--default-cgroupns-mode, else cgroup v2).
 */
function securityOptions(f: SystemFacts): string[] {
  const out: string[] = [];
  if (f.host.seccomp !== false) out.push(`name=seccomp,profile=${f.security.seccompProfile}`);
  // dockerd's order (fillSecurityOptions): seccomp, selinux, userns, rootless, cgroupns, no-new-privileges.
  if (f.usernsRemap) out.push('name=userns');
  if (f.security.cgroupnsPrivate) out.push('name=cgroupns');
  if (f.security.noNewPrivileges) out.push('name=no-new-privileges');
  return out;
}
