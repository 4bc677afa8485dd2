/** GET /version and GET /info: what the daemon is and what it holds. */
import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import type { SystemInfo, SystemVersion } from '../../api/types/index.ts';
import { API_VERSION_CURRENT, API_VERSION_MIN, BERTH_VERSION } from '../../api/types/index.ts';
import type { SystemService } from '../engine.ts';
import type { RuntimeTable } from '../containers/runtimes.ts';

export interface SystemFacts {
  id: string;
  dataRoot: string;
  cgroupVersion: 1 | 2;
  /** The OCI runtimes (docker info's Runtimes, DefaultRuntime). */
  runtimes?: RuntimeTable;
  counts: () => { containers: number; running: number; paused: number; stopped: number; images: number };
  eventListeners: () => number;
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
          },
        },
      ],
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION_CURRENT,
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
      DriverStatus: [['Backing Filesystem', 'extfs']],
      DockerRootDir: this.#f.dataRoot,
      Plugins: {
        Volume: ['local'],
        Network: ['bridge', 'host', 'none'],
        Authorization: null,
        Log: ['json-file', 'none'],
      },
      MemoryLimit: true,
      SwapLimit: this.#f.cgroupVersion === 2,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      OomKillDisable: this.#f.cgroupVersion === 1,
      IPv4Forwarding: true,
      BridgeNfIptables: false,
      BridgeNfIp6tables: false,
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
      RegistryConfig: {
        InsecureRegistryCIDRs: ['127.0.0.0/8'],
        IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
        Mirrors: [],
      },
      GenericResources: null,
      HttpProxy: process.env.HTTP_PROXY ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? '',
      NoProxy: process.env.NO_PROXY ?? '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
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
      SecurityOptions: ['name=cgroupns'],
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
