/**
 * `run`/`create` flags and their translation into a POST /containers/create body, following
 * docker/cli cli/command/container/opts.go (addFlags and parse). Flags not listed here are
 * rejected by commander as unknown: we never accept a flag and drop it silently.
 *
 * Lifecycle: program.ts calls addContainerFlags on the run and create commands; the command
 * modules call parseContainerOptions with commander's option values, the image and the
 * trailing command, and get the request body (or an Error with docker's message).
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type {
  ContainerCreateRequest,
  DeviceMapping,
  EndpointSettings,
  HealthConfig,
  HostConfig,
  MountSpec,
  PortBinding,
  RestartPolicy,
  Ulimit,
} from '../api/types/index.ts';
import {
  collect,
  parseBytes,
  parseDurationNanos,
  parseInteger,
  parseNanoCpus,
  parseSwapBytes,
} from './flag-parsers.ts';
import { ramInBytes } from './units.ts';

/** The option values commander produces for the flags below (camelCase of the long names). */
export interface ContainerFlags {
  addHost?: string[];
  attach?: string[];
  capAdd?: string[];
  capDrop?: string[];
  cgroupParent?: string;
  cgroupns?: string;
  cidfile?: string;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  cpus?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  device?: string[];
  dns?: string[];
  dnsOption?: string[];
  dnsSearch?: string[];
  domainname?: string;
  entrypoint?: string;
  env?: string[];
  envFile?: string[];
  expose?: string[];
  groupAdd?: string[];
  healthCmd?: string;
  healthInterval?: number;
  healthRetries?: number;
  healthStartPeriod?: number;
  healthStartInterval?: number;
  healthTimeout?: number;
  hostname?: string;
  init?: boolean;
  interactive?: boolean;
  ipc?: string;
  label?: string[];
  labelFile?: string[];
  logDriver?: string;
  logOpt?: string[];
  memory?: number;
  memoryReservation?: number;
  memorySwap?: number;
  memorySwappiness?: number;
  mount?: string[];
  name?: string;
  network?: string[];
  net?: string[];
  networkAlias?: string[];
  netAlias?: string[];
  /** false when `--no-healthcheck` was given. */
  healthcheck?: boolean;
  oomKillDisable?: boolean;
  oomScoreAdj?: number;
  pid?: string;
  pidsLimit?: number;
  platform?: string;
  privileged?: boolean;
  publish?: string[];
  publishAll?: boolean;
  pull?: string;
  readOnly?: boolean;
  restart?: string;
  rm?: boolean;
  runtime?: string;
  securityOpt?: string[];
  shmSize?: number;
  stopSignal?: string;
  stopTimeout?: number;
  sysctl?: string[];
  tmpfs?: string[];
  tty?: boolean;
  ulimit?: string[];
  user?: string;
  userns?: string;
  uts?: string;
  volume?: string[];
  volumeDriver?: string;
  volumesFrom?: string[];
  workdir?: string;
}

/** Registers docker's container flags (the subset berth implements) on `cmd`. */
export function addContainerFlags(cmd: Command): void {
  const list = (flags: string, desc: string) => cmd.option(flags, desc, collect);
  list('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)');
  list('-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR');
  list('--cap-add <list>', 'Add Linux capabilities');
  list('--cap-drop <list>', 'Drop Linux capabilities');
  cmd.option('--cgroup-parent <string>', 'Optional parent cgroup for the container');
  cmd.option('--cgroupns <string>', 'Cgroup namespace to use (host|private)');
  cmd.option('--cidfile <string>', 'Write the container ID to the file');
  cmd.option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period', parseInteger);
  cmd.option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota', parseInteger);
  cmd.option('-c, --cpu-shares <int>', 'CPU shares (relative weight)', parseInteger);
  cmd.option('--cpus <decimal>', 'Number of CPUs', parseNanoCpus);
  cmd.option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)');
  cmd.option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)');
  list('--device <list>', 'Add a host device to the container');
  list('--dns <list>', 'Set custom DNS servers');
  list('--dns-option <list>', 'Set DNS options');
  list('--dns-search <list>', 'Set custom DNS search domains');
  cmd.option('--domainname <string>', 'Container NIS domain name');
  cmd.option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image');
  list('-e, --env <list>', 'Set environment variables');
  list('--env-file <list>', 'Read in a file of environment variables');
  list('--expose <list>', 'Expose a port or a range of ports');
  list('--group-add <list>', 'Add additional groups to join');
  cmd.option('--health-cmd <string>', 'Command to run to check health');
  cmd.option('--health-interval <duration>', 'Time between running the check (ms|s|m|h)', parseDurationNanos);
  cmd.option('--health-retries <int>', 'Consecutive failures needed to report unhealthy', parseInteger);
  cmd.option(
    '--health-start-interval <duration>',
    'Time between running the check during the start period (ms|s|m|h)',
    parseDurationNanos,
  );
  cmd.option(
    '--health-start-period <duration>',
    'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)',
    parseDurationNanos,
  );
  cmd.option(
    '--health-timeout <duration>',
    'Maximum time to allow one check to run (ms|s|m|h)',
    parseDurationNanos,
  );
  cmd.option('-h, --hostname <string>', 'Container host name');
  cmd.option('--init', 'Run an init inside the container that forwards signals and reaps processes');
  cmd.option('-i, --interactive', 'Keep STDIN open even if not attached');
  cmd.option('--ipc <string>', 'IPC mode to use');
  list('-l, --label <list>', 'Set meta data on a container');
  list('--label-file <list>', 'Read in a line delimited file of labels');
  cmd.option('--log-driver <string>', 'Logging driver for the container');
  list('--log-opt <list>', 'Log driver options');
  cmd.option('-m, --memory <bytes>', 'Memory limit', parseBytes);
  cmd.option('--memory-reservation <bytes>', 'Memory soft limit', parseBytes);
  cmd.option(
    '--memory-swap <bytes>',
    "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
    parseSwapBytes,
  );
  cmd.option('--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)', parseInteger);
  list('--mount <mount>', 'Attach a filesystem mount to the container');
  cmd.option('--name <string>', 'Assign a name to the container');
  list('--network <network>', 'Connect a container to a network');
  cmd.addOption(new Option('--net <network>').argParser(collect).hideHelp());
  list('--network-alias <list>', 'Add network-scoped alias for the container');
  cmd.addOption(new Option('--net-alias <list>').argParser(collect).hideHelp());
  // Commander reads `--no-x` as the negation of `x`: this one sets `healthcheck: false`.
  cmd.option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
  cmd.option('--oom-kill-disable', 'Disable OOM Killer');
  cmd.option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)", parseInteger);
  cmd.option('--pid <string>', 'PID namespace to use');
  cmd.option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)', parseInteger);
  cmd.option('--platform <string>', 'Set platform if server is multi-platform capable');
  cmd.option('--privileged', 'Give extended privileges to this container');
  list('-p, --publish <list>', "Publish a container's port(s) to the host");
  cmd.option('-P, --publish-all', 'Publish all exposed ports to random ports');
  cmd.option('--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing');
  cmd.option('--read-only', "Mount the container's root filesystem as read only");
  cmd.option('--restart <string>', 'Restart policy to apply when a container exits', 'no');
  cmd.option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits');
  cmd.option('--runtime <string>', 'Runtime to use for this container');
  list('--security-opt <list>', 'Security Options');
  cmd.option('--shm-size <bytes>', 'Size of /dev/shm', parseBytes);
  cmd.option('--stop-signal <string>', 'Signal to stop the container');
  cmd.option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container', parseInteger);
  list('--sysctl <map>', 'Sysctl options');
  list('--tmpfs <list>', 'Mount a tmpfs directory');
  cmd.option('-t, --tty', 'Allocate a pseudo-TTY');
  list('--ulimit <ulimit>', 'Ulimit options');
  cmd.option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])');
  cmd.option('--userns <string>', 'User namespace to use');
  cmd.option('--uts <string>', 'UTS namespace to use');
  list('-v, --volume <list>', 'Bind mount a volume');
  cmd.option('--volume-driver <string>', 'Optional volume driver for the container');
  list('--volumes-from <list>', 'Mount volumes from the specified container(s)');
  cmd.option('-w, --workdir <string>', 'Working directory inside the container');
}

/** Error in the user's flags (docker reports these with exit status 125). */
export class FlagError extends Error {}

/** Did the user give this flag (pflag's `flags.Changed`)? */
export type IsSet = (flag: keyof ContainerFlags) => boolean;

export interface ParsedContainer {
  body: ContainerCreateRequest;
  name?: string;
  platform?: string;
}

export interface ParseContext {
  env?: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
}

/** opts.go parse(): flags + image + command → the create request body. Throws FlagError. */
export function parseContainerOptions(
  o: ContainerFlags,
  image: string,
  args: string[],
  isSet: IsSet,
  ctx: ParseContext = {},
): ParsedContainer {
  const env = ctx.env ?? process.env;
  const readFile = ctx.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const attach = new Set((o.attach ?? []).map((a) => a.toLowerCase()));
  for (const a of attach) {
    if (!['stdin', 'stdout', 'stderr'].includes(a)) {
      throw new FlagError(
        `invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`,
      );
    }
  }
  let attachStdin = attach.has('stdin') || !!o.interactive;
  let attachStdout = attach.has('stdout');
  let attachStderr = attach.has('stderr');
  if (attach.size === 0) {
    attachStdout = true;
    attachStderr = true;
  }
  attachStdin ||= false;

  const swappiness = o.memorySwappiness ?? -1;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new FlagError(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const spec of o.volume ?? []) {
    if (hasVolumeSource(spec)) binds.push(spec);
    else volumes[spec] = {};
  }

  const tmpfs: Record<string, string> = {};
  for (const t of o.tmpfs ?? []) {
    const i = t.indexOf(':');
    if (i >= 0) tmpfs[t.slice(0, i)] = t.slice(i + 1);
    else tmpfs[t] = '';
  }

  const { exposed, bindings } = parsePublish(o.publish ?? []);
  for (const e of o.expose ?? []) {
    if (e.includes(':')) throw new FlagError(`invalid port format for --expose: ${e}`);
    const [port = '', proto = 'tcp'] = e.split('/');
    const [start, end] = parsePortRange(port, () => new FlagError(`invalid range format for --expose: ${e}`));
    for (let p = start; p <= end; p++) exposed[`${p}/${proto.toLowerCase()}`] ??= {};
  }

  const envList = [
    ...readEnvFiles(o.envFile ?? [], env, readFile),
    ...(o.env ?? []).map((e) => validateEnv(e, env)),
  ];
  const labels = labelMap([...readLabelFiles(o.labelFile ?? [], readFile), ...(o.label ?? [])]);

  const restartPolicy = parseRestartPolicy(o.restart ?? 'no');
  if (o.rm && restartPolicy.Name !== 'no' && restartPolicy.Name !== '') {
    throw new FlagError('conflicting options: cannot specify both --restart and --rm');
  }

  let healthcheck: HealthConfig | undefined;
  const haveHealth =
    !!o.healthCmd || !!o.healthInterval || !!o.healthTimeout || !!o.healthStartPeriod || !!o.healthRetries;
  if (o.healthcheck === false) {
    if (haveHealth) throw new FlagError('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    for (const [flag, v] of [
      ['interval', o.healthInterval],
      ['timeout', o.healthTimeout],
      ['retries', o.healthRetries],
      ['start-period', o.healthStartPeriod],
    ] as const) {
      if ((v ?? 0) < 0) throw new FlagError(`--health-${flag} cannot be negative`);
    }
    healthcheck = {
      ...(o.healthCmd ? { Test: ['CMD-SHELL', o.healthCmd] } : {}),
      Interval: o.healthInterval ?? 0,
      Timeout: o.healthTimeout ?? 0,
      StartPeriod: o.healthStartPeriod ?? 0,
      StartInterval: o.healthStartInterval ?? 0,
      Retries: o.healthRetries ?? 0,
    };
  }

  const { securityOpt, maskedPaths, readonlyPaths } = parseSecurityOpts(o.securityOpt ?? [], readFile);

  const networks = [...(o.network ?? []), ...(o.net ?? [])];
  const networkMode = networks[0] ?? 'default';
  const endpoints: Record<string, EndpointSettings> = {};
  if (networks.length > 1) {
    for (const n of networks) {
      if (endpoints[n]) throw new FlagError(`network "${n}" is specified multiple times`);
      endpoints[n] = {};
    }
  }
  const aliases = [...(o.networkAlias ?? []), ...(o.netAlias ?? [])];
  if (aliases.length > 0) {
    if (['default', 'bridge', 'host', 'none'].includes(networkMode) || networkMode.startsWith('container:')) {
      throw new FlagError('network-scoped aliases are only supported for user-defined networks');
    }
    endpoints[networkMode] = { ...endpoints[networkMode], Aliases: aliases };
  }

  const hostConfig: HostConfig = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: o.cidfile ?? '',
    LogConfig: { Type: o.logDriver ?? '', Config: parseLogOpts(o.logDriver, o.logOpt ?? []) },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restartPolicy,
    AutoRemove: !!o.rm,
    VolumeDriver: o.volumeDriver ?? '',
    VolumesFrom: o.volumesFrom?.length ? [...o.volumesFrom] : null,
    Mounts: o.mount?.length ? o.mount.map(parseMount) : null,
    CapAdd: o.capAdd?.length ? [...o.capAdd] : null,
    CapDrop: o.capDrop?.length ? [...o.capDrop] : null,
    CgroupnsMode: o.cgroupns ?? '',
    Dns: [...(o.dns ?? [])],
    DnsOptions: [...(o.dnsOption ?? [])],
    DnsSearch: [...(o.dnsSearch ?? [])],
    ExtraHosts: o.addHost?.length ? o.addHost.map(validateExtraHost) : null,
    GroupAdd: o.groupAdd?.length ? [...o.groupAdd] : null,
    IpcMode: o.ipc ?? '',
    OomScoreAdj: o.oomScoreAdj ?? 0,
    PidMode: o.pid ?? '',
    Privileged: !!o.privileged,
    PublishAllPorts: !!o.publishAll,
    ReadonlyRootfs: !!o.readOnly,
    SecurityOpt: securityOpt,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : null,
    UTSMode: o.uts ?? '',
    UsernsMode: o.userns ?? '',
    ShmSize: o.shmSize ?? 0,
    Sysctls: o.sysctl?.length ? sysctlMap(o.sysctl) : null,
    Runtime: o.runtime ?? '',
    // Resources
    CgroupParent: o.cgroupParent ?? '',
    CpuShares: o.cpuShares ?? 0,
    Memory: o.memory ?? 0,
    NanoCpus: o.cpus ?? 0,
    CpuPeriod: o.cpuPeriod ?? 0,
    CpuQuota: o.cpuQuota ?? 0,
    CpusetCpus: o.cpusetCpus ?? '',
    CpusetMems: o.cpusetMems ?? '',
    Devices: (o.device ?? []).map(parseDevice),
    MemoryReservation: o.memoryReservation ?? 0,
    MemorySwap: o.memorySwap ?? 0,
    MemorySwappiness: swappiness,
    OomKillDisable: !!o.oomKillDisable,
    PidsLimit: o.pidsLimit ?? 0,
    Ulimits: o.ulimit?.length ? o.ulimit.map(parseUlimit) : null,
  };
  if (maskedPaths) hostConfig.MaskedPaths = maskedPaths;
  if (readonlyPaths) hostConfig.ReadonlyPaths = readonlyPaths;
  // Only sent when given (opts.go: `if flags.Changed("init")`).
  if (isSet('init')) hostConfig.Init = !!o.init;

  const openStdin = !!o.interactive;
  const body: ContainerCreateRequest = {
    Hostname: o.hostname ?? '',
    Domainname: o.domainname ?? '',
    User: o.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(exposed).length ? exposed : null,
    Tty: !!o.tty,
    OpenStdin: openStdin,
    // When allocating stdin in attached mode, close stdin at client disconnect.
    StdinOnce: openStdin && attachStdin,
    Env: envList,
    Cmd: args.length ? [...args] : null,
    Image: image,
    Volumes: Object.keys(volumes).length ? volumes : null,
    WorkingDir: o.workdir ?? '',
    Entrypoint: o.entrypoint ? [o.entrypoint] : isSet('entrypoint') ? [''] : null,
    Labels: labels,
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  if (healthcheck) body.Healthcheck = healthcheck;
  if (isSet('stopSignal')) body.StopSignal = o.stopSignal ?? '';
  if (isSet('stopTimeout')) body.StopTimeout = o.stopTimeout ?? null;
  const result: ParsedContainer = { body };
  if (o.name) result.name = o.name;
  if (o.platform) result.platform = o.platform;
  return result;
}

/** compose-go loader.ParseVolume on Linux: a spec with a `:` has a source (bind or named volume). */
function hasVolumeSource(spec: string): boolean {
  return spec.includes(':');
}

/** opts.ValidateEnv: `K=V` as is; a bare `K` takes the value from our environment if set. */
export function validateEnv(value: string, env: NodeJS.ProcessEnv): string {
  const i = value.indexOf('=');
  const key = i >= 0 ? value.slice(0, i) : value;
  if (key === '') throw new FlagError(`invalid environment variable: ${value}`);
  if (i >= 0) return value;
  const v = env[key];
  return v !== undefined ? `${key}=${v}` : value;
}

/** opts.ParseEnvFile: `K=V` lines; `#` comments; a bare `K` is taken from the environment or dropped. */
export function parseEnvFile(text: string, file: string, env: NodeJS.ProcessEnv | undefined): string[] {
  const out: string[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    let line = raw.replace(/^[ \t\r\n]+/, '');
    if (lineNo === 1) line = line.replace(/^\uFEFF/, '');
    if (line === '' || line.startsWith('#')) continue;
    line = line.replace(/\r$/, '');
    const i = line.indexOf('=');
    const key = (i >= 0 ? line.slice(0, i) : line).replace(/^\s+/, '');
    if (/\s/.test(key)) throw new FlagError(`variable '${key}' contains whitespaces`);
    if (key === '') throw new FlagError(`no variable name on line '${line}' in ${file}`);
    if (i >= 0) out.push(`${key}${line.slice(i)}`);
    else if (env === undefined) out.push(line);
    else if (env[key] !== undefined) out.push(`${key}=${env[key]}`);
  }
  return out;
}

function readEnvFiles(files: string[], env: NodeJS.ProcessEnv, readFile: (p: string) => string): string[] {
  return files.flatMap((f) => parseEnvFile(readOrFail(f, readFile), f, env));
}

function readLabelFiles(files: string[], readFile: (p: string) => string): string[] {
  return files.flatMap((f) => parseEnvFile(readOrFail(f, readFile), f, undefined));
}

function readOrFail(file: string, readFile: (p: string) => string): string {
  try {
    return readFile(file);
  } catch (err) {
    throw new FlagError(
      `open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`,
    );
  }
}

/** opts.ConvertKVStringsToMap: `k=v` → {k: v}; `k` → {k: ""}. */
export function labelMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i >= 0) out[v.slice(0, i)] = v.slice(i + 1);
    else out[v] = '';
  }
  return out;
}

function sysctlMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0)
      throw new FlagError(`invalid argument "${v}" for "--sysctl" flag: ${v} is not a valid sysctl value`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** opts.ParseRestartPolicy: `no`, `always`, `unless-stopped`, `on-failure[:N]`. */
export function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const i = policy.indexOf(':');
  const name = i >= 0 ? policy.slice(0, i) : policy;
  const count = i >= 0 ? policy.slice(i + 1) : undefined;
  if (name === '') throw new FlagError('invalid restart policy format: no policy provided before colon');
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) {
    throw new FlagError(`invalid restart policy format: unknown policy '${name}'`);
  }
  let max = 0;
  if (count !== undefined) {
    if (!/^\d+$/.test(count))
      throw new FlagError('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
    if (name !== 'on-failure') {
      throw new FlagError(
        `invalid restart policy format: maximum retry count cannot be used with restart policy '${name}'`,
      );
    }
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

function parsePortRange(text: string, err: () => Error): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw err();
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (start > 65535 || end > 65535 || end < start) throw err();
  return [start, end];
}

/** nat.ParsePortSpecs (after docker's convertToStandardNotation for `target=…,published=…`). */
export function parsePublish(specs: string[]): {
  exposed: Record<string, object>;
  bindings: Record<string, PortBinding[]>;
} {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const raw of specs) {
    const spec = raw.includes('=') ? longPortSyntax(raw) : raw;
    const parts = spec.split(':');
    const n = parts.length;
    let containerPort = parts[n - 1] as string;
    let hostPort = n >= 2 ? (parts[n - 2] as string) : '';
    let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
    let proto = 'tcp';
    const slash = containerPort.indexOf('/');
    if (slash >= 0) {
      proto = containerPort.slice(slash + 1) || 'tcp';
      containerPort = containerPort.slice(0, slash);
    }
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (ip !== '' && !isIp(ip)) throw new FlagError(`invalid IP address: ${ip}`);
    if (containerPort === '') throw new FlagError(`no port specified: ${spec}<empty>`);
    const [start, end] = parsePortRange(
      containerPort,
      () => new FlagError(`invalid containerPort: ${containerPort}`),
    );
    let hStart = 0;
    let hEnd = 0;
    if (hostPort !== '') {
      [hStart, hEnd] = parsePortRange(hostPort, () => new FlagError(`invalid hostPort: ${hostPort}`));
    }
    if (hostPort !== '' && end - start !== hEnd - hStart && end !== start) {
      throw new FlagError(
        `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`,
      );
    }
    proto = proto.toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new FlagError(`invalid proto: ${proto}`);
    for (let i = 0; i <= end - start; i++) {
      if (hostPort !== '') hostPort = String(hStart + i);
      if (start === end && hStart !== hEnd) hostPort = `${hStart}-${hEnd}`;
      const key = `${start + i}/${proto}`;
      exposed[key] = {};
      const list = bindings[key] ?? [];
      if (!list.some((b) => b.HostIp === ip && b.HostPort === hostPort))
        list.push({ HostIp: ip, HostPort: hostPort });
      bindings[key] = list;
    }
  }
  return { exposed, bindings };
}

function longPortSyntax(raw: string): string {
  let target = '';
  let published = '';
  let protocol = 'tcp';
  let hostIp = '';
  for (const field of raw.split(',')) {
    const i = field.indexOf('=');
    const key = (i >= 0 ? field.slice(0, i) : field).toLowerCase();
    const value = i >= 0 ? field.slice(i + 1) : '';
    if (key === 'target') target = value;
    else if (key === 'published') published = value;
    else if (key === 'protocol') protocol = value;
    else if (key === 'host_ip') hostIp = value;
    else if (key !== 'mode') throw new FlagError(`invalid field key ${key}`);
  }
  if (!target) throw new FlagError('missing required field: target');
  return `${hostIp ? `${hostIp}:` : ''}${published}:${target}/${protocol}`;
}

function isIp(s: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
}

/** opts.ValidateExtraHost: `host:ip` or `host=ip`, sent as `host:ip`. */
function validateExtraHost(value: string): string {
  const sep = value.search(/[=:]/);
  if (sep <= 0)
    throw new FlagError(
      `invalid argument "${value}" for "--add-host" flag: bad format for add-host: "${value}"`,
    );
  const ip = value.slice(sep + 1);
  if (ip !== 'host-gateway' && !isIp(ip.replace(/^\[|\]$/g, ''))) {
    throw new FlagError(
      `invalid argument "${value}" for "--add-host" flag: invalid IP address in add-host: "${ip}"`,
    );
  }
  return `${value.slice(0, sep)}:${ip.replace(/^\[|\]$/g, '')}`;
}

/** opts.MountOpt.Set: docker's CSV `--mount` syntax. */
export function parseMount(spec: string): MountSpec {
  const mount: MountSpec = { Type: 'volume' };
  const fields = spec.split(',');
  const bool = (key: string, v: string | undefined) => {
    if (v === undefined || v === '' || v === '1' || v.toLowerCase() === 'true') return true;
    if (v === '0' || v.toLowerCase() === 'false') return false;
    throw new FlagError(`invalid value for ${key}: ${v}`);
  };
  // The type decides which options are valid, so read it first.
  for (const f of fields) {
    const [k, v] = splitKv(f);
    if (k.toLowerCase() === 'type') mount.Type = v as MountSpec['Type'];
  }
  for (const f of fields) {
    const [rawKey, value] = splitKv(f);
    const key = rawKey.toLowerCase();
    switch (key) {
      case 'type':
        break;
      case 'source':
      case 'src':
        mount.Source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = value;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = bool(key, f.includes('=') ? value : undefined);
        break;
      case 'consistency':
        mount.Consistency = value;
        break;
      case 'bind-propagation':
        mount.BindOptions = { ...mount.BindOptions, Propagation: value };
        break;
      case 'bind-nonrecursive':
        mount.BindOptions = { ...mount.BindOptions, NonRecursive: bool(key, value) };
        break;
      case 'bind-create-mountpoint':
        mount.BindOptions = { ...mount.BindOptions, CreateMountpoint: bool(key, value) };
        break;
      case 'volume-nocopy':
        mount.VolumeOptions = {
          ...mount.VolumeOptions,
          NoCopy: bool(key, f.includes('=') ? value : undefined),
        };
        break;
      case 'volume-subpath':
        mount.VolumeOptions = { ...mount.VolumeOptions, Subpath: value };
        break;
      case 'volume-label': {
        const [lk, lv] = splitKv(value);
        mount.VolumeOptions = {
          ...mount.VolumeOptions,
          Labels: { ...mount.VolumeOptions?.Labels, [lk]: lv },
        };
        break;
      }
      case 'volume-driver':
        mount.VolumeOptions = {
          ...mount.VolumeOptions,
          DriverConfig: { ...mount.VolumeOptions?.DriverConfig, Name: value },
        };
        break;
      case 'volume-opt': {
        const [ok, ov] = splitKv(value);
        const dc = mount.VolumeOptions?.DriverConfig ?? {};
        mount.VolumeOptions = {
          ...mount.VolumeOptions,
          DriverConfig: { ...dc, Options: { ...dc.Options, [ok]: ov } },
        };
        break;
      }
      case 'tmpfs-size': {
        let size: number;
        try {
          size = ramInBytes(value);
        } catch {
          throw new FlagError(`invalid value for ${key}: ${value}`);
        }
        mount.TmpfsOptions = { ...mount.TmpfsOptions, SizeBytes: size };
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(value)) throw new FlagError(`invalid value for ${key}: ${value}`);
        mount.TmpfsOptions = { ...mount.TmpfsOptions, Mode: Number.parseInt(value, 8) };
        break;
      }
      default:
        throw new FlagError(
          `invalid argument "${spec}" for "--mount" flag: unexpected key '${key}' in '${f}'`,
        );
    }
  }
  if (!mount.Target) throw new FlagError(`invalid argument "${spec}" for "--mount" flag: target is required`);
  return mount;
}

function splitKv(s: string): [string, string] {
  const i = s.indexOf('=');
  return i >= 0 ? [s.slice(0, i), s.slice(i + 1)] : [s, ''];
}

/** opts.ParseUlimit: `name=soft[:hard]`. */
export function parseUlimit(value: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value);
  if (!m)
    throw new FlagError(`invalid argument "${value}" for "--ulimit" flag: invalid ulimit argument: ${value}`);
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  if (soft > hard) {
    throw new FlagError(
      `invalid argument "${value}" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
    );
  }
  return { Name: m[1] as string, Soft: soft, Hard: hard };
}

/** parseDevice (Linux): `host[:container][:perms]`. */
export function parseDevice(value: string): DeviceMapping {
  const parts = value.split(':');
  const host = parts[0] ?? '';
  let container = host;
  let perms = 'rwm';
  if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1] as string)) perms = parts[1] as string;
    else container = parts[1] as string;
  } else if (parts.length === 3) {
    container = parts[1] as string;
    perms = parts[2] as string;
  } else if (parts.length > 3) {
    throw new FlagError(`invalid device specification: ${value}`);
  }
  if (!/^[rwm]+$/.test(perms)) throw new FlagError(`invalid device mode: ${perms}`);
  return { PathOnHost: host, PathInContainer: container, CgroupPermissions: perms };
}

function parseLogOpts(driver: string | undefined, opts: string[]): Record<string, string> {
  const map = labelMap(opts);
  if (driver === 'none' && opts.length) throw new FlagError('invalid logging opts for driver none');
  return map;
}

/**
 * parseSecurityOpts + parseSystemPaths: `seccomp=<file>` is sent as the file's JSON content,
 * `key:value` is normalised to `key=value`, and `systempaths=unconfined` becomes empty masked
 * and read-only path lists.
 */
export function parseSecurityOpts(
  opts: string[],
  readFile: (p: string) => string,
): { securityOpt: string[] | null; maskedPaths?: string[]; readonlyPaths?: string[] } {
  const out: string[] = [];
  let unconfinedPaths = false;
  for (const opt of opts) {
    if (opt === 'systempaths=unconfined') {
      unconfinedPaths = true;
      continue;
    }
    if (opt === 'no-new-privileges') {
      out.push(opt);
      continue;
    }
    let i = opt.indexOf('=');
    if (i < 0) i = opt.indexOf(':');
    if (i < 0) throw new FlagError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    if (key === 'seccomp' && value !== 'unconfined' && value !== 'builtin') {
      let text: string;
      try {
        text = readFile(value);
      } catch (err) {
        throw new FlagError(`opening seccomp profile (${value}) failed: ${(err as Error).message}`);
      }
      let compact: string;
      try {
        compact = JSON.stringify(JSON.parse(text));
      } catch (err) {
        throw new FlagError(
          `compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`,
        );
      }
      out.push(`seccomp=${compact}`);
      continue;
    }
    out.push(`${key}=${value}`);
  }
  const result: { securityOpt: string[] | null; maskedPaths?: string[]; readonlyPaths?: string[] } = {
    securityOpt: out.length ? out : null,
  };
  if (unconfinedPaths) {
    result.maskedPaths = [];
    result.readonlyPaths = [];
  }
  return result;
}
