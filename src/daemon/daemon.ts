/**
 * berthd's composition root: read the options, take the pidfile, build the engine, re-adopt
 * containers, serve the API, and shut down on SIGTERM/SIGINT. Containers keep running when
 * berthd stops: they belong to their shims.
 */
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type TlsListenOptions, createApiServer } from '../api/server/index.ts';
import { BERTH_VERSION } from '../api/types/index.ts';
import { type Logger, conflict, createLogger, errnoCode, packageRoot } from '../common/index.ts';
import { type ContainerDefaults, createEngine, parseSeccompProfile } from '../engine/index.ts';
import { resolveUsernsRemap } from '../platform/index.ts';
import { configFileArg, readDaemonConfig } from './config-file.ts';
import { DEFAULT_CONFIG_FILE, type DaemonOptions, USAGE, parseDaemonArgs } from './options.ts';
import { createMetrics, startMetricsServer } from './metrics.ts';
import { KNOWN_FEATURES, checkStorageOpts } from './more-options.ts';

/** The command line merged with the configuration file (--config-file, else the default one). */
async function loadOptions(argv: string[]): Promise<ReturnType<typeof parseDaemonArgs>> {
  const explicit = configFileArg(argv);
  const path = explicit ?? DEFAULT_CONFIG_FILE;
  const file = await readDaemonConfig(path, explicit !== undefined);
  return parseDaemonArgs(argv, file, path);
}

export async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseDaemonArgs>;
  try {
    parsed = await loadOptions(argv);
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(125);
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed === 'version') {
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return;
  }
  const log = createLogger(parsed.logLevel, parsed.more.logFormat);
  // A stray stream error (EPIPE on a client or shim socket that went away) is a bug to fix, but
  // must not take down the daemon and every client with it: log it once and keep serving.
  process.on('uncaughtException', (err) => log.error('uncaught exception: this is a bug', { err }));
  try {
    await run(parsed, log, argv);
  } catch (err) {
    log.error('berthd failed to start', { err });
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

async function run(options: DaemonOptions, log: Logger, argv: string[]): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('berthd needs to run as root');
  await mkdir(options.execRoot, { recursive: true, mode: 0o700 });
  await takePidfile(options.pidfile);

  const shimPath = process.env.BERTH_SHIM ?? join(packageRoot(), 'native', 'build', 'berth-shim');
  if (!existsSync(shimPath))
    throw new Error(`the native shim is missing at ${shimPath}: run scripts/install.sh`);

  // dockerd's setupRemappedRoot: the maps come from /etc/subuid and /etc/subgid (`root`: off).
  const usernsRemap = options.usernsRemap ? await resolveUsernsRemap(options.usernsRemap) : undefined;
  if (usernsRemap) {
    log.info('User namespaces: ID ranges will be mapped to subuid/subgid ranges', {
      user: usernsRemap.user,
      group: usernsRemap.group,
    });
  } else if (options.usernsRemap) {
    log.warn('User namespaces: root cannot be remapped with itself; user namespaces are OFF');
  }
  const more = options.more;
  await mkdir(options.dataRoot, { recursive: true, mode: 0o711 });
  const backingFilesystem = await backingFs(options.dataRoot);
  checkStorageOpts(more.storageOpts, backingFilesystem);
  if (more.selinuxEnabled) {
    // dockerd's configureKernelSecuritySupport: without SELinux on the host it warns and goes on.
    if (existsSync('/sys/fs/selinux/enforce')) {
      throw new Error(
        '--selinux-enabled: berth does not apply SELinux labels to containers on this SELinux host',
      );
    }
    log.warn('Docker could not enable SELinux on the host system');
  }
  for (const name of Object.keys(more.features).filter((f) => !KNOWN_FEATURES.has(f))) {
    log.warn('unknown feature ignored', { feature: name });
  }
  if (more.experimental) log.warn('Running with experimental features enabled');
  const metrics = more.metricsAddr ? createMetrics() : undefined;
  const engine = await createEngine({
    dataRoot: options.dataRoot,
    execRoot: options.execRoot,
    cgroupParent: options.cgroupParent,
    network: options.network,
    registry: options.registry,
    transfers: { downloads: options.maxConcurrentDownloads, uploads: options.maxConcurrentUploads },
    containerDefaults: await containerDefaults(options),
    seccompProfileName: options.containers.seccompProfile,
    labels: options.labels,
    shimPath,
    log,
    logDefaults: { type: options.logDriver, config: options.logOpts },
    ...(usernsRemap ? { usernsRemap } : {}),
    runtimes: {
      added: options.runtimes,
      ...(options.defaultRuntime ? { defaultRuntime: options.defaultRuntime } : {}),
    },
    daemon: { experimental: more.experimental, backingFilesystem },
    ...(more.builderGc.enabled ? { buildCacheGc: more.builderGc } : {}),
    ...(metrics ? { hooks: { healthProbe: (ok: boolean) => metrics.healthProbe(ok) } } : {}),
  });
  await engine.init();
  metrics?.instrument(engine);
  const metricsServer =
    metrics && more.metricsAddr ? await startMetricsServer(metrics, more.metricsAddr) : undefined;
  const bound = metricsServer?.address();
  if (bound && typeof bound === 'object') {
    log.info(
      `metrics API listening on ${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    );
  }
  const server = createApiServer({
    engine,
    log: log.child({ component: 'api' }),
    experimental: more.experimental,
  });
  const socketGid = await groupId(options.group, options.groupGiven);
  const tls = await tlsListenOptions(options, log);
  for (const host of options.hosts) {
    if ('unix' in host) await mkdir(dirname(host.unix), { recursive: true });
    await server.listen(
      'unix' in host ? { unix: host.unix, mode: 0o660 } : { ...host, ...(tls ? { tls } : {}) },
    );
    // dockerd gives the socket to its group (root:docker 0660) so members need no sudo.
    if ('unix' in host && socketGid !== undefined) await chown(host.unix, 0, socketGid);
  }
  log.info('berthd started', { version: BERTH_VERSION, dataRoot: options.dataRoot, hosts: options.hosts });

  // What SIGHUP can change (dockerd's reload): the log level, shutdown-timeout, live-restore.
  const live = { shutdownTimeout: options.shutdownTimeout, liveRestore: options.liveRestore };
  process.on('SIGHUP', () => {
    void reload(argv, options, live, log).catch((err) =>
      log.error('configuration reload failed, keeping the old one', { err }),
    );
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('berthd stopping', { signal });
    await server.close();
    metrics?.close();
    metricsServer?.close();
    // live-restore (berth's default) leaves containers to their shims; without it they are
    // stopped, each within shutdown-timeout, as dockerd does.
    if (!live.liveRestore) await engine.stopAll?.(live.shutdownTimeout);
    await engine.shutdown();
    await rm(options.pidfile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** SIGHUP: re-read the configuration file and apply what can change while running. */
async function reload(
  argv: string[],
  current: DaemonOptions,
  live: { shutdownTimeout: number; liveRestore: boolean },
  log: Logger,
): Promise<void> {
  const next = await loadOptions(argv);
  if (next === 'help' || next === 'version') return;
  log.setLevel?.(next.logLevel);
  live.shutdownTimeout = next.shutdownTimeout;
  live.liveRestore = next.liveRestore;
  log.info('configuration reloaded', {
    configFile: current.configFile,
    features: next.more.features,
    logLevel: next.logLevel,
    shutdownTimeout: next.shutdownTimeout,
    liveRestore: next.liveRestore,
  });
}

/**
 * TLS for tcp hosts. Plain TCP gives anyone who can reach the port root on the host: berthd
 * refuses it unless asked with --tls=false (then warns, as dockerd does).
 */
async function tlsListenOptions(options: DaemonOptions, log: Logger): Promise<TlsListenOptions | undefined> {
  const tcp = options.hosts.filter((h) => !('unix' in h));
  if (tcp.length === 0) return undefined;
  const t = options.tls;
  if (!t) {
    if (!options.tlsDisabled) {
      throw new Error(
        'refusing to listen on tcp without TLS: use --tlsverify --tlscacert --tlscert --tlskey, or --tls=false to serve plain TCP (anyone reaching the port gets root on this host)',
      );
    }
    log.warn(
      'binding to a tcp address without TLS: anyone who can reach it can run containers with root access on this host',
    );
    return undefined;
  }
  const read = async (what: string, path: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new Error(`could not read ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const [key, cert] = await Promise.all([read('TLS key', t.key), read('TLS certificate', t.cert)]);
  const ca = t.verify ? await read('CA certificate', t.ca) : undefined;
  if (!t.verify) log.warn('--tls without --tlsverify: clients are not asked for a certificate');
  return { key, cert, ...(ca ? { ca } : {}), requestCert: t.verify };
}

/** statfs magic numbers → the names dockerd's fsmagic gives them ("Backing Filesystem"). */
const FS_NAMES = new Map<number, string>([
  [0xef53, 'extfs'],
  [0x58465342, 'xfs'],
  [0x01021994, 'tmpfs'],
  [0x9123683e, 'btrfs'],
  [0x2fc12fc1, 'zfs'],
  [0x794c7630, 'overlayfs'],
  [0x65735546, 'fuse'],
  [0x6969, 'nfs'],
  [0xf2f52010, 'f2fs'],
  [0x5346544e, 'ntfs'],
  [0x52654973, 'reiserfs'],
]);

async function backingFs(path: string): Promise<string> {
  const type = (await statfs(path)).type;
  return FS_NAMES.get(type) ?? `<unknown> (0x${type.toString(16)})`;
}

/** One berthd per exec root: a pidfile naming a live process means another is running. */
async function takePidfile(path: string): Promise<void> {
  try {
    const pid = Number((await readFile(path, 'utf8')).trim());
    if (pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw conflict(`pid file found, ensure berthd is not running or delete ${path}`);
    }
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, String(process.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The gid of the socket's group. Like dockerd: the default group may be missing (the socket
 * stays root's), a group named with -G must exist.
 */
async function groupId(name: string, given: boolean): Promise<number | undefined> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.split(':')[0] === name);
  if (line) return Number(line.split(':')[2]);
  if (/^\d+$/.test(name)) return Number(name);
  if (given) throw new Error(`group ${name} not found: create it or pick another with -G`);
  return undefined;
}

/**
 * The daemon's container defaults; a --seccomp-profile file is read and checked now, as dockerd
 * reads it at start ("opening seccomp profile (…) failed").
 */
async function containerDefaults(options: DaemonOptions): Promise<ContainerDefaults> {
  const c = options.containers;
  let seccompProfile: string | undefined;
  if (c.seccompProfile === 'unconfined') seccompProfile = 'unconfined';
  else if (c.seccompProfile !== 'builtin' && c.seccompProfile !== 'default') {
    try {
      seccompProfile = await readFile(c.seccompProfile, 'utf8');
    } catch (err) {
      throw new Error(`opening seccomp profile (${c.seccompProfile}) failed: ${(err as Error).message}`);
    }
    parseSeccompProfile(seccompProfile);
  }
  return {
    init: c.init,
    noNewPrivileges: c.noNewPrivileges,
    ...(seccompProfile !== undefined ? { seccompProfile } : {}),
    ulimits: c.ulimits,
    dns: c.dns,
    dnsSearch: c.dnsSearch,
    dnsOptions: c.dnsOptions,
    ...(c.cgroupnsMode ? { cgroupnsMode: c.cgroupnsMode } : {}),
    ...(c.ipcMode ? { ipcMode: c.ipcMode } : {}),
    ...(c.shmSize ? { shmSize: c.shmSize } : {}),
  };
}
