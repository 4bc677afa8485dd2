/**
 * Named volumes with Docker's `local` driver.
 *
 * Layout under `root` (`<dataRoot>/volumes`):
 *   <name>/_data        the volume's files (the Mountpoint users see)
 *   <name>/meta.json    {name, driver, createdAt, labels, options}, written atomically
 *
 * With driver options (`type`, `device`, `o`, as `docker volume create -o`), `_data` is a mount
 * point: the filesystem is mounted when the first user mounts the volume (`mount`) and unmounted
 * when the last one releases it (`unmount`), as the local driver does (moby volume/local).
 * Without options `_data` is a plain directory and mount/unmount only count users.
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, conflict, errnoCode, invalidParameter, notFound } from '../common/index.ts';
import { mount as mountFs, umount, writeJsonAtomic } from '../platform/index.ts';
import { parseMountOptions } from './mount-options.ts';

export interface VolumeRecord {
  name: string;
  driver: 'local';
  /** RFC 3339. */
  createdAt: string;
  labels: Record<string, string>;
  /** Driver options as given (`type`, `device`, `o`). */
  options: Record<string, string>;
}

/** Docker's label on volumes the engine created without a name (volume prune's default set). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** Docker's local driver accepts these options (volume/local validateOpts). */
const VALID_OPTIONS = new Set(['type', 'device', 'o']);

/** volume/local: `^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`. */
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class VolumeStore {
  readonly #root: string;
  readonly #log: Logger;
  readonly #volumes = new Map<string, VolumeRecord>();
  /** Users (container ids) of each mounted volume. */
  readonly #users = new Map<string, Set<string>>();

  /** Owner of a new volume's `_data` (dockerd's remapped root with --userns-remap); default root. */
  readonly #dataOwner?: { uid: number; gid: number };

  constructor(options: { root: string; log: Logger; dataOwner?: { uid: number; gid: number } }) {
    this.#root = options.root;
    this.#log = options.log;
    if (options.dataOwner) this.#dataOwner = options.dataOwner;
  }

  async init(): Promise<void> {
    await mkdir(this.#root, { recursive: true, mode: 0o701 });
    for (const name of await readdir(this.#root)) {
      if (name.startsWith('.')) continue;
      try {
        const rec = JSON.parse(await readFile(join(this.#root, name, 'meta.json'), 'utf8')) as VolumeRecord;
        this.#volumes.set(rec.name, rec);
      } catch (err) {
        this.#log.warn('volume without metadata', { name, err });
      }
    }
  }

  /** The host path of a volume's files. */
  dataPath(name: string): string {
    return join(this.#root, name, '_data');
  }

  list(): VolumeRecord[] {
    return [...this.#volumes.values()];
  }

  find(name: string): VolumeRecord | undefined {
    return this.#volumes.get(name);
  }

  /** Docker: `get <name>: no such volume` (404). */
  get(name: string): VolumeRecord {
    const v = this.#volumes.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  /**
   * Creates a volume (a 64-hex name when `name` is empty). Creating a volume that exists with
   * the same driver returns it unchanged, as Docker does.
   */
  async create(options: {
    name?: string;
    driver?: string;
    labels?: Record<string, string>;
    options?: Record<string, string>;
  }): Promise<VolumeRecord> {
    const driver = options.driver || 'local';
    if (driver !== 'local') {
      throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    }
    const name = options.name || randomBytes(32).toString('hex');
    if (!VALID_NAME.test(name)) {
      throw invalidParameter(
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
    const existing = this.#volumes.get(name);
    if (existing) return existing;
    const opts = { ...(options.options ?? {}) };
    validateOptions(name, opts);
    const rec: VolumeRecord = {
      name,
      driver: 'local',
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      labels: { ...(options.labels ?? {}) },
      options: opts,
    };
    const dir = join(this.#root, name);
    await mkdir(join(dir, '_data'), { recursive: true, mode: 0o755 });
    if (this.#dataOwner) await chown(join(dir, '_data'), this.#dataOwner.uid, this.#dataOwner.gid);
    await writeJsonAtomic(join(dir, 'meta.json'), rec);
    this.#volumes.set(name, rec);
    return rec;
  }

  /** Makes the volume's files available at dataPath() for `user`; mounts the device on first use. */
  async mount(name: string, user: string): Promise<string> {
    const rec = this.get(name);
    const users = this.#users.get(name) ?? new Set<string>();
    if (users.size === 0 && hasDevice(rec) && !(await isMountPoint(this.dataPath(name)))) {
      const { flags, data } = parseMountOptions(rec.options.o ?? '');
      try {
        mountFs(rec.options.device ?? '', this.dataPath(name), rec.options.type || null, {
          flags,
          data: data || null,
        });
      } catch (err) {
        throw invalidParameter(
          `error while mounting volume '${this.dataPath(name)}': failed to mount local volume: mount ${rec.options.device ?? ''}:${this.dataPath(name)}, flags: 0x${flags.toString(16)}, data: ${data}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    users.add(user);
    this.#users.set(name, users);
    return this.dataPath(name);
  }

  /** Releases `user`'s use; unmounts a device volume when its last user goes. */
  async unmount(name: string, user: string): Promise<void> {
    const users = this.#users.get(name);
    users?.delete(user);
    if (users && users.size > 0) return;
    this.#users.delete(name);
    const rec = this.#volumes.get(name);
    if (rec && hasDevice(rec)) await unmountQuietly(this.dataPath(name), this.#log);
  }

  /** Removes a volume. The engine has checked no container uses it. */
  async remove(name: string): Promise<void> {
    const rec = this.get(name);
    if ((this.#users.get(name)?.size ?? 0) > 0) {
      throw conflict(`remove ${name}: volume is in use`);
    }
    if (hasDevice(rec)) await unmountQuietly(this.dataPath(name), this.#log);
    const dir = join(this.#root, name);
    // Rename first: a crash mid-removal leaves a hidden folder, never a half volume.
    const doomed = join(this.#root, `.rm-${randomBytes(8).toString('hex')}`);
    await rename(dir, doomed);
    this.#volumes.delete(name);
    await rm(doomed, { recursive: true, force: true });
  }
}

function validateOptions(name: string, opts: Record<string, string>): void {
  for (const key of Object.keys(opts)) {
    if (!VALID_OPTIONS.has(key)) throw invalidParameter(`create ${name}: invalid option key: "${key}"`);
  }
  if (opts.type !== undefined || opts.device !== undefined || opts.o !== undefined) {
    // volume/local: "missing required option: \"type\"" etc. for a device volume.
    if (!opts.type) throw invalidParameter(`create ${name}: missing required option: "type"`);
    if (!opts.device) throw invalidParameter(`create ${name}: missing required option: "device"`);
  }
}

function hasDevice(rec: VolumeRecord): boolean {
  return Boolean(rec.options.type || rec.options.device);
}

async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return info.split('\n').some((l) => l.split(' ')[4] === escaped);
}

async function unmountQuietly(path: string, log: Logger): Promise<void> {
  while (await isMountPoint(path)) {
    try {
      umount(path);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EINVAL' || code === 'ENOENT') return;
      log.warn('volume busy, detaching', { path });
      umount(path, { detach: true });
    }
  }
}
