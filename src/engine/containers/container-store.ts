/**
 * Container records on disk and the in-memory indexes over them (by id, by name).
 *
 * Layout under <dataRoot>/containers/<id>/ (DESIGN.md): config.json — the record (identity and
 * the container's configuration, rewritten on create and rename), state.json — the lifecycle
 * state (rewritten on each transition); also the log, hostname, hosts and resolv.conf files and
 * the OCI bundle (bundle/config.json), all owned by the engine. Both JSON files are written
 * atomically, so a crash leaves the old or the new version. health.json holds State.Health of a
 * container with a healthcheck, so a running container keeps its status across berthd restarts.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, conflict, errnoCode, notFound } from '../../common/index.ts';
import { writeJsonAtomic } from '../../platform/index.ts';
import type { ContainerConfig, Health, HostConfig } from '../../api/types/index.ts';
import type { ContainerSpec } from '../spec/index.ts';
import type { MountPointRecord } from '../volumes/index.ts';
import type { LifecycleState } from './state.ts';

export interface ContainerRecord {
  id: string;
  /** Without the leading '/' Docker shows in inspect. */
  name: string;
  created: string;
  /** The image reference as the user gave it (Config.Image). */
  image: string;
  imageId: string;
  /** What start needs, decided at create (engine/spec). */
  spec: ContainerSpec;
  /** `Config` and `HostConfig` as docker inspect shows them. */
  config: ContainerConfig;
  hostConfig: HostConfig;
  restartCount: number;
  /** Stopped or killed through the API since its last manual start (Docker's HasBeenManuallyStopped). */
  manuallyStopped?: boolean;
  /** Binds, volumes and --mount tmpfs, decided at create (engine/volumes). */
  mountPoints?: MountPointRecord[];
}

export interface Container {
  record: ContainerRecord;
  state: LifecycleState;
  /** State.Health, kept by the health monitor while the container has a healthcheck. */
  health?: Health;
}

export class ContainerStore {
  readonly #root: string;
  readonly #log: Logger;
  readonly #byId = new Map<string, Container>();
  readonly #byName = new Map<string, string>();

  constructor(options: { root: string; log: Logger }) {
    this.#root = options.root;
    this.#log = options.log;
  }

  dir(id: string): string {
    return join(this.#root, id);
  }

  /** Loads every record; a folder with an unreadable record is skipped and logged. */
  async load(): Promise<Container[]> {
    await mkdir(this.#root, { recursive: true, mode: 0o710 });
    for (const id of await readdir(this.#root)) {
      try {
        const record = JSON.parse(
          await readFile(join(this.#root, id, 'config.json'), 'utf8'),
        ) as ContainerRecord;
        let state: LifecycleState = { status: 'created' };
        try {
          state = JSON.parse(await readFile(join(this.#root, id, 'state.json'), 'utf8')) as LifecycleState;
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw err;
        }
        let health: Health | undefined;
        try {
          health = JSON.parse(await readFile(join(this.#root, id, 'health.json'), 'utf8')) as Health;
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') this.#log.warn('ignoring unreadable health state', { id, err });
        }
        this.#index(health ? { record, state, health } : { record, state });
      } catch (err) {
        this.#log.warn('skipping unreadable container record', { id, err });
      }
    }
    return [...this.#byId.values()];
  }

  all(): Container[] {
    return [...this.#byId.values()];
  }

  isNameTaken(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * Docker's lookup order (daemon/container.go GetContainer): full id, then exact name, then a
   * unique id prefix. An ambiguous prefix is an error.
   */
  get(ref: string): Container {
    const found = this.find(ref);
    if (!found) throw notFound(`No such container: ${ref}`);
    return found;
  }

  find(ref: string): Container | undefined {
    const byId = this.#byId.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const idByName = this.#byName.get(name);
    if (idByName) return this.#byId.get(idByName);
    if (!/^[a-f0-9]+$/.test(ref)) return undefined;
    const matches = [...this.#byId.keys()].filter((id) => id.startsWith(ref));
    if (matches.length > 1) throw notFound(`No such container: ${ref}`, { cause: 'ambiguous prefix' });
    return matches[0] ? this.#byId.get(matches[0]) : undefined;
  }

  /** Reserves the name and writes the record; the caller has created the folder. */
  async add(record: ContainerRecord, state: LifecycleState): Promise<Container> {
    this.reserveName(record.name, record.id);
    const c: Container = { record, state };
    try {
      await this.#writeRecord(record);
      await this.#writeState(record.id, state);
    } catch (err) {
      this.#byName.delete(record.name);
      throw err;
    }
    this.#byId.set(record.id, c);
    return c;
  }

  /** Docker's text for a name clash (moby daemon/names.go). */
  reserveName(name: string, id: string): void {
    const holder = this.#byName.get(name);
    if (holder && holder !== id) {
      throw conflict(
        `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.#byName.set(name, id);
  }

  async rename(c: Container, newName: string): Promise<void> {
    const old = c.record.name;
    this.reserveName(newName, c.record.id);
    c.record = { ...c.record, name: newName };
    try {
      await this.#writeRecord(c.record);
    } catch (err) {
      c.record = { ...c.record, name: old };
      this.#byName.delete(newName);
      throw err;
    }
    this.#byName.delete(old);
  }

  async setState(c: Container, state: LifecycleState): Promise<void> {
    c.state = state;
    await this.#writeState(c.record.id, state);
  }

  /** Writes State.Health (the health monitor calls this after each probe, as dockerd checkpoints). */
  async saveHealth(c: Container): Promise<void> {
    if (c.health) await writeJsonAtomic(join(this.#root, c.record.id, 'health.json'), c.health);
  }

  async saveRecord(c: Container): Promise<void> {
    await this.#writeRecord(c.record);
  }

  /** Forgets the container and deletes its folder. */
  async remove(c: Container): Promise<void> {
    this.#byId.delete(c.record.id);
    if (this.#byName.get(c.record.name) === c.record.id) this.#byName.delete(c.record.name);
    await rm(this.dir(c.record.id), { recursive: true, force: true });
  }

  #index(c: Container): void {
    this.#byId.set(c.record.id, c);
    this.#byName.set(c.record.name, c.record.id);
  }

  async #writeRecord(record: ContainerRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir(record.id), 'config.json'), record, 0o600);
  }

  async #writeState(id: string, state: LifecycleState): Promise<void> {
    await writeJsonAtomic(join(this.dir(id), 'state.json'), state, 0o600);
  }
}
