/**
 * Create-time validation of a Docker create body, with Docker's messages (Docker 20.10 / API
 * 1.41 wording where later versions reworded; later checks added where 20.10 had none). It covers
 * what dockerd checks before it creates anything: runconfig's decode-time checks
 * (validateNetMode, isolation, QoS), daemon/container.go verifyContainerSettings and
 * daemon_unix.go verifyPlatformContainerSettings/Resources, and the API-version rules of the
 * create route. Checks that need the filesystem (bind sources exist) or other containers and
 * networks (container:<x> exists, network exists) belong to the engine.
 *
 * Called by the engine on every POST /containers/create, before toContainerSpec. Every failure
 * is a BerthError of kind InvalidParameter (HTTP 400). Returns Docker's warnings for the
 * response's `Warnings`.
 */
import { parseSeccompProfile } from './seccomp.ts';
import type { ContainerCreateRequest, HostConfig, PortMap } from '../../api/types/index.ts';
import { BerthError, invalidParameter } from '../../common/index.ts';
import { parseBind, parseVolumesFrom } from './binds.ts';
import { normalizeCapabilities } from './capabilities.ts';
import { normalizePath, validateMountConfig } from './mount-config.ts';
import { parseSignal } from './signals.ts';

/** Facts about the host that some checks need; a check is skipped when its fact is absent. */
export interface HostFacts {
  /** Online CPUs: bounds NanoCpus and CpusetCpus. */
  cpuCount?: number;
  /** Runtime names the daemon knows (HostConfig.Runtime must be one of them when set). */
  runtimes?: string[];
  /** The memory controller has kmem.limit_in_bytes (cgroup v1): KernelMemory is kept. */
  kernelMemory?: boolean;
  /** memory.oom_control exists (cgroup v1): OomKillDisable is kept. */
  oomKillDisable?: boolean;
  /** memory.swappiness exists (cgroup v1): MemorySwappiness is kept. */
  memorySwappiness?: boolean;
  /** Swap can be limited: memory.memsw.limit_in_bytes (v1) or memory.swap.max (v2) exists. */
  swapLimit?: boolean;
  /** The host runs cgroup v2 (containers get a private cgroup namespace by default). */
  cgroupV2?: boolean;
  /** The kernel has seccomp (/proc/self/status shows a Seccomp field). */
  seccomp?: boolean;
  /** Which blkio settings the io controller has files for (undefined: all of them). */
  blkio?: BlkioSupport;
}

/** pkg/sysinfo's blkio facts: each false one is discarded at create with Docker's warning. */
export interface BlkioSupport {
  weight: boolean;
  weightDevice: boolean;
  readBps: boolean;
  writeBps: boolean;
  readIOps: boolean;
  writeIOps: boolean;
}

/** Docker's minimum for Memory, MemoryReservation and KernelMemory (6 MiB). */
const LINUX_MIN_MEMORY = 6 * 1024 * 1024;
/** Healthcheck durations below 1 ms are rejected (container.MinimumDuration). */
const MIN_HEALTH_DURATION_NS = 1_000_000;
/** HOST_NAME_MAX. */
const MAX_HOSTNAME_LEN = 64;

const fail = (message: string): never => {
  throw invalidParameter(message);
};

/** Compares Docker API versions ("1.41" < "1.44"). */
export function apiVersionLessThan(a: string, b: string): boolean {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** `container:<x>` → `<x>`; anything else → undefined. */
export function containerModeTarget(mode: string | undefined): string | undefined {
  if (mode === undefined) return undefined;
  const i = mode.indexOf(':');
  if (i < 0 || mode.slice(0, i) !== 'container') return undefined;
  return mode.slice(i + 1);
}

/**
 * Throws InvalidParameter with Docker's message when the body would be refused by dockerd;
 * returns Docker's warnings otherwise.
 */
export function validateCreate(
  body: ContainerCreateRequest,
  apiVersion: string,
  host: HostFacts = {},
): string[] {
  const warnings: string[] = [];
  const hc: HostConfig = body.HostConfig ?? {};
  validateApiVersionRules(body, apiVersion);
  validateNetMode(body, hc);
  validateIsolationAndQos(hc);
  if (
    (hc.CpuRealtimePeriod ?? 0) !== 0 &&
    (hc.CpuRealtimeRuntime ?? 0) !== 0 &&
    (hc.CpuRealtimeRuntime ?? 0) > (hc.CpuRealtimePeriod ?? 0)
  ) {
    fail('cpu real-time runtime cannot be higher than cpu real-time period');
  }
  validateContainerConfig(body);
  validateHostConfig(hc);
  warnings.push(...validateResources(hc, host));
  warnings.push(...validatePlatformSettings(hc, host));
  return warnings;
}

function validateApiVersionRules(body: ContainerCreateRequest, apiVersion: string): void {
  const mounts = body.HostConfig?.Mounts ?? [];
  if (!apiVersionLessThan(apiVersion, '1.42')) {
    for (const m of mounts) {
      if (m.VolumeOptions && m.Type !== 'volume') {
        fail(`VolumeOptions must not be specified on mount type "${m.Type}"`);
      }
      if (m.BindOptions && m.Type !== 'bind')
        fail(`BindOptions must not be specified on mount type "${m.Type}"`);
      if (m.TmpfsOptions && m.Type !== 'tmpfs') {
        fail(`TmpfsOptions must not be specified on mount type "${m.Type}"`);
      }
    }
  }
  if (apiVersionLessThan(apiVersion, '1.44')) {
    const endpoints = Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {});
    if (endpoints.length > 1) {
      fail(`Container cannot be created with multiple network endpoints: ${endpoints.join(', ')}`);
    }
  }
  if (apiVersionLessThan(apiVersion, '1.45')) {
    for (const m of mounts) {
      if (m.VolumeOptions?.Subpath) fail('VolumeOptions.Subpath needs API v1.45 or newer');
    }
  }
}

/** runconfig validateNetMode / validateNetContainerMode (texts from runconfig/errors.go). */
function validateNetMode(body: ContainerCreateRequest, hc: HostConfig): void {
  const mode = hc.NetworkMode ?? '';
  const target = containerModeTarget(mode);
  const isContainer = target !== undefined;
  if (mode === 'container' || (isContainer && target === '')) {
    fail('Invalid network mode: invalid container format container:<name|id>');
  }
  if (isContainer) {
    if (body.Hostname) fail('conflicting options: hostname and the network mode');
    if (hc.Links?.length) {
      fail(
        "conflicting options: container type network can't be used with links. This would result in undefined behavior",
      );
    }
    if (hc.Dns?.length) fail('conflicting options: dns and the network mode');
    if (hc.ExtraHosts?.length) fail('conflicting options: custom host-to-IP mapping and the network mode');
  }
  if ((isContainer || mode === 'host') && body.MacAddress) {
    fail('conflicting options: mac-address and the network mode');
  }
  if (isContainer) {
    if (Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts) {
      fail('conflicting options: port publishing and the container type network mode');
    }
    if (Object.keys(body.ExposedPorts ?? {}).length > 0) {
      fail('conflicting options: port exposing and the container type network mode');
    }
  }
  if (hc.UTSMode === 'host' && body.Hostname) fail('conflicting options: hostname and the UTS mode');
  if (mode === 'host' && hc.Links?.length) {
    fail(
      "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
    );
  }
}

function validateIsolationAndQos(hc: HostConfig): void {
  const iso = (hc.Isolation ?? '').toLowerCase();
  if (iso !== '' && iso !== 'default') {
    fail(`Invalid isolation: "${hc.Isolation}" - linux only supports 'default'`);
  }
  if (hc.IOMaximumBandwidth) {
    fail('Invalid QoS settings: linux does not support configuration of maximum bandwidth');
  }
  if (hc.IOMaximumIOps) fail('Invalid QoS settings: linux does not support configuration of maximum IOPs');
}

/** daemon/container.go validateContainerConfig. */
function validateContainerConfig(body: ContainerCreateRequest): void {
  if (body.WorkingDir && !body.WorkingDir.startsWith('/')) {
    fail(`the working directory '${body.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  if (body.StopSignal) parseSignal(body.StopSignal);
  for (const env of body.Env ?? []) {
    const eq = env.indexOf('=');
    const key = eq < 0 ? env : env.slice(0, eq);
    if (key === '') fail(`invalid environment variable: ${env}`);
  }
  const h = body.Healthcheck;
  if (h) {
    // JSON null (docker-py sends it for unset fields) decodes to 0 in Go, i.e. "unset".
    const tooShort = (v: number | undefined | null) => v != null && v !== 0 && v < MIN_HEALTH_DURATION_NS;
    if (tooShort(h.Interval)) fail('Interval in Healthcheck cannot be less than 1ms');
    if (tooShort(h.Timeout)) fail('Timeout in Healthcheck cannot be less than 1ms');
    if ((h.Retries ?? 0) < 0) fail('Retries in Healthcheck cannot be negative');
    if (tooShort(h.StartPeriod)) fail('StartPeriod in Healthcheck cannot be less than 1ms');
    if (tooShort(h.StartInterval)) fail('StartInterval in Healthcheck cannot be less than 1ms');
  }
  if (body.Hostname && body.Hostname.length > MAX_HOSTNAME_LEN) {
    fail(`hostname "${body.Hostname}" is too long (maximum ${MAX_HOSTNAME_LEN} bytes)`);
  }
}

/** daemon/container.go validateHostConfig. */
function validateHostConfig(hc: HostConfig): void {
  const restart = hc.RestartPolicy ?? {};
  const restartName = restart.Name ?? '';
  if (hc.AutoRemove && restartName !== '' && restartName !== 'no') {
    fail("can't create 'AutoRemove' container with restart policy");
  }
  for (const m of hc.Mounts ?? []) validateMountConfig(m);
  // Docker parses these in registerMountPoints, still before anything is created.
  for (const b of hc.Binds ?? []) parseBind(b, hc.VolumeDriver ?? '');
  for (const v of hc.VolumesFrom ?? []) parseVolumesFrom(v);
  for (const extraHost of hc.ExtraHosts ?? []) validateExtraHost(extraHost);
  validatePortBindings(hc.PortBindings ?? {});
  const retries = restart.MaximumRetryCount ?? 0;
  switch (restartName) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (retries !== 0) fail(`maximum retry count cannot be used with restart policy '${restartName}'`);
      break;
    case 'on-failure':
      if (retries < 0) fail('maximum retry count cannot be negative');
      break;
    case '':
      break;
    default:
      fail(`invalid restart policy '${restartName}'`);
  }
  wrapCapabilityError('CapAdd', hc.CapAdd ?? []);
  wrapCapabilityError('CapDrop', hc.CapDrop ?? []);
}

function wrapCapabilityError(field: 'CapAdd' | 'CapDrop', caps: string[]): void {
  try {
    normalizeCapabilities(caps);
  } catch (err) {
    if (err instanceof BerthError) throw invalidParameter(`invalid ${field}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** opts.ValidateExtraHost: `name:ip` (IPv6 allowed after the first colon) or `name:host-gateway`. */
function validateExtraHost(val: string): void {
  const i = val.indexOf(':');
  if (i <= 0) fail(`bad format for add-host: "${val}"`);
  const ip = val.slice(i + 1);
  if (ip !== 'host-gateway' && !isIpAddress(ip)) fail(`invalid IP address in add-host: "${ip}"`);
}

function isIpAddress(s: string): boolean {
  // Docker strips brackets around IPv6 addresses in add-host values.
  const v = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(v)) {
    return v.split('.').every((o) => Number(o) <= 255);
  }
  if (!v.includes(':') || !/^[0-9a-fA-F:.]+$/.test(v)) return false;
  const doubles = v.split('::').length - 1;
  if (doubles > 1) return false;
  const groups = v.split(':').filter((g) => g !== '');
  return groups.every((g) => g.includes('.') || g.length <= 4) && (doubles === 1 || groups.length >= 7);
}

/** daemon/container.go validatePortBindings (Docker 20.10: go-connections nat parsing). */
function validatePortBindings(ports: PortMap): void {
  for (const [key, bindings] of Object.entries(ports)) {
    const portStr = splitProtoPort(key)[1];
    if (portStr !== '' && !isUint16(portStr)) fail(`invalid port specification: "${portStr}"`);
    for (const b of bindings ?? []) {
      const hostPort = b.HostPort ?? '';
      if (hostPort === '') continue;
      const [, hp] = splitProtoPort(hostPort);
      if (hp !== '' && !isPortRange(hp)) fail(`invalid port specification: "${hostPort}"`);
    }
  }
}

/** "80/udp" → ['udp', '80']; "80" → ['tcp', '80']. */
export function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1] === '') return ['tcp', parts[0] ?? ''];
  return [parts[1] ?? 'tcp', parts[0] ?? ''];
}

function isUint16(s: string): boolean {
  return /^\d+$/.test(s) && Number(s) <= 65535;
}

function isPortRange(s: string): boolean {
  const parts = s.split('-');
  if (parts.length === 1) return isUint16(s);
  const [start = '', end = ''] = parts;
  return isUint16(start) && isUint16(end) && Number(end) >= Number(start);
}

/** daemon_unix.go verifyPlatformContainerResources (the checks that need no kernel probing). */
export function validateResources(hc: HostConfig, host: HostFacts = {}): string[] {
  const warnings: string[] = [];
  const memory = hc.Memory ?? 0;
  const swap = hc.MemorySwap ?? 0;
  const reservation = hc.MemoryReservation ?? 0;
  if (memory !== 0 && memory < LINUX_MIN_MEMORY) fail('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) {
    fail('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (memory === 0 && swap > 0)
    fail('You should always set the Memory limit when using Memoryswap limit, see usage');
  const swappiness = hc.MemorySwappiness;
  if (
    swappiness !== undefined &&
    swappiness !== null &&
    swappiness !== -1 &&
    (swappiness < 0 || swappiness > 100)
  ) {
    fail(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (reservation > 0 && reservation < LINUX_MIN_MEMORY) fail('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    fail('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  const kernelMemory = hc.KernelMemory ?? 0;
  if (kernelMemory > 0 && kernelMemory < LINUX_MIN_MEMORY) fail('Minimum kernel memory limit allowed is 6MB');
  if (hc.OomKillDisable === true && memory === 0) {
    warnings.push(
      'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
    );
  }
  const nano = hc.NanoCpus ?? 0;
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0)
    fail('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0)
    fail('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || (host.cpuCount !== undefined && nano > host.cpuCount * 1e9)) {
    const n = host.cpuCount ?? 0;
    fail(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  }
  if ((hc.CpuShares ?? 0) < 0) fail(`invalid CPU shares (${hc.CpuShares}): value must be a positive integer`);
  const period = hc.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    fail('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  const quota = hc.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) fail('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((hc.CpuPercent ?? 0) > 0) warnings.push('linux does not support CPU percent. Percent discarded.');
  validateCpuset(hc.CpusetCpus ?? '', 'cpus', host.cpuCount);
  validateCpuset(hc.CpusetMems ?? '', 'mems', undefined);
  const weight = hc.BlkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000)) fail('Range of blkio weight is from 10 to 1000');
  return warnings;
}

/** Parses a cpuset list ("0-2,4") into its members; undefined when malformed. */
export function parseCpuset(list: string): number[] | undefined {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (end < start) return undefined;
    for (let i = start; i <= end; i++) out.push(i);
  }
  return out;
}

function validateCpuset(list: string, kind: 'cpus' | 'mems', available: number | undefined): void {
  if (list === '') return;
  const members = parseCpuset(list);
  if (!members) fail(`Invalid value ${list} for cpuset ${kind}: invalid format: ${list}`);
  if (available !== undefined && members?.some((c) => c >= available)) {
    const avail = available === 1 ? '0' : `0-${available - 1}`;
    fail(`Requested CPUs are not available - requested ${list}, available: ${avail}`);
  }
}

const VALID_IPC = new Set(['', 'none', 'host', 'private', 'shareable']);

/** daemon_unix.go verifyPlatformContainerSettings (minus user-namespace and systemd checks). */
function validatePlatformSettings(hc: HostConfig, host: HostFacts): string[] {
  const warnings: string[] = [];
  const ipc = hc.IpcMode ?? '';
  if (!VALID_IPC.has(ipc) && containerModeTarget(ipc) === undefined) fail(`invalid IPC mode: ${ipc}`);
  const pid = hc.PidMode ?? '';
  if (pid !== '' && pid !== 'host' && !containerModeTarget(pid)) fail(`invalid PID mode: ${pid}`);
  if ((hc.ShmSize ?? 0) < 0) fail('SHM size can not be less than 0');
  const uts = hc.UTSMode ?? '';
  if (uts !== '' && uts !== 'host') fail(`invalid UTS mode: ${uts}`);
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) fail(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  if (hc.NetworkMode === 'host' && Object.keys(hc.PortBindings ?? {}).length > 0) {
    warnings.push('Published ports are discarded when using host network mode');
  }
  if (hc.Runtime && host.runtimes && !host.runtimes.includes(hc.Runtime)) {
    fail(`Unknown runtime specified ${hc.Runtime}`);
  }
  for (const dest of Object.keys(hc.Tmpfs ?? {})) {
    if (normalizePath(dest) === '/') fail("invalid specification: destination can't be '/'");
    if (!dest.startsWith('/')) fail(`invalid mount path: '${dest}' mount path must be absolute`);
  }
  const cgroupns = hc.CgroupnsMode ?? '';
  if (cgroupns !== '' && cgroupns !== 'private' && cgroupns !== 'host') {
    fail(`invalid cgroup namespace mode: ${cgroupns}`);
  }
  const userns = hc.UsernsMode ?? '';
  if (userns !== '' && userns !== 'host') fail(`invalid USER mode: ${userns}`);
  const cgroup = hc.Cgroup ?? '';
  if (cgroup !== '' && !containerModeTarget(cgroup)) fail(`invalid cgroup spec: ${cgroup}`);
  for (const opt of hc.SecurityOpt ?? []) parseSecurityOpt(opt);
  return warnings;
}

/** The parsed `--security-opt` values a container's spec uses. */
export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** `unconfined`, a profile's JSON text, or undefined for the default profile. */
  seccompProfile?: string;
  apparmorProfile?: string;
  writableCgroups?: boolean;
  labelOpts: string[];
}

/** One `--security-opt` value (daemon_unix.go parseSecurityOpt), applied onto `into`. */
export function parseSecurityOpt(opt: string, into?: SecurityOptions): SecurityOptions {
  const out: SecurityOptions = into ?? { noNewPrivileges: false, labelOpts: [] };
  if (opt === 'no-new-privileges') {
    out.noNewPrivileges = true;
    return out;
  }
  if (opt === 'writable-cgroups') {
    out.writableCgroups = true;
    return out;
  }
  if (opt === 'disable') {
    out.labelOpts.push('disable');
    return out;
  }
  let sep = opt.indexOf('=');
  if (sep < 0) sep = opt.indexOf(':');
  if (sep < 0) fail(`invalid --security-opt 1: "${opt}"`);
  const key = opt.slice(0, sep);
  const value = opt.slice(sep + 1);
  const parseBool = (v: string): boolean => {
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
    return fail(`invalid --security-opt 2: "${opt}"`);
  };
  switch (key) {
    case 'label':
      out.labelOpts.push(value);
      break;
    case 'apparmor':
      out.apparmorProfile = value;
      break;
    case 'seccomp':
      // The CLI sends a profile file's JSON text; check it now rather than at start.
      if (!['unconfined', 'builtin', 'default', ''].includes(value)) parseSeccompProfile(value);
      out.seccompProfile = value;
      break;
    case 'no-new-privileges':
      out.noNewPrivileges = parseBool(value);
      break;
    case 'writable-cgroups':
      out.writableCgroups = parseBool(value);
      break;
    default:
      fail(`invalid --security-opt 2: "${opt}"`);
  }
  return out;
}
