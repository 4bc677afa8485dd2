/**
 * `compose pull`, `push` and `images` (Docker Compose v2 pkg/compose/pull.go, push.go,
 * images.go): which services' images are pulled or pushed, fail-fast unless failures are
 * ignored, and the image of each of the project's containers.
 */
import type { EngineClient } from '../client/index.ts';
import { isDaemonError } from '../client/index.ts';
import { LABEL } from './container-config.ts';
import type { Project, Service } from './model.ts';
import { projectFilter } from './runner.ts';

/** The image the file names (loadProject gives build-only services `<project>-<service>`). */
export function declaredImage(project: Project, key: string, svc: Service): string | undefined {
  if (!svc.image) return undefined;
  if (svc.build && svc.image === `${project.name}-${key}`) return undefined;
  return svc.image;
}

/** name, and tag or digest (`latest` when neither), as distribution/reference splits them. */
export function splitRef(ref: string): { name: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/')
    ? { name: ref.slice(0, colon), tag: ref.slice(colon + 1) }
    : { name: ref, tag: 'latest' };
}

/** X-Registry-Auth for an image (the CLI reads the Docker client config). */
export type AuthFor = (image: string) => Promise<string | undefined>;

function isLatest(ref: string): boolean {
  const last = ref.split('/').pop() ?? '';
  if (last.includes('@')) return false;
  return !last.includes(':') || last.endsWith(':latest');
}

async function present(client: EngineClient, ref: string): Promise<boolean> {
  try {
    await client.imageInspect(ref);
    return true;
  } catch (err) {
    if (isDaemonError(err) && err.statusCode === 404) return false;
    throw err;
  }
}

/** Reads a JSON-message stream to its end; a message's error becomes a thrown Error. */
async function drain(stream: AsyncIterable<{ error?: string; errorDetail?: { message?: string } }>) {
  for await (const m of stream) {
    if (m.error || m.errorDetail?.message) throw new Error(m.errorDetail?.message ?? m.error);
  }
}

export interface PullOptions {
  services?: string[];
  ignoreFailures?: boolean;
  ignoreBuildable?: boolean;
  quiet?: boolean;
  auth?: AuthFor;
  progress?: (line: string) => void;
}

/** Returns the services whose pull failed but can be built (Compose warns about them). */
export async function pull(
  client: EngineClient,
  project: Project,
  opts: PullOptions = {},
): Promise<string[]> {
  const say = opts.quiet ? () => {} : (opts.progress ?? (() => {}));
  const keys = opts.services?.length ? opts.services : Object.keys(project.services);
  const scheduled = new Set<string>();
  const mustBuild: string[] = [];
  const errors: Error[] = [];
  const jobs: Promise<void>[] = [];
  for (const key of keys) {
    const svc = project.services[key];
    if (!svc) throw new Error(`no such service: ${key}`);
    const image = declaredImage(project, key, svc);
    if (!image) {
      say(` ${key} Skipped - No image to be pulled`);
      continue;
    }
    const policy = svc.pull_policy;
    if (policy === 'never' || policy === 'build') continue;
    if ((policy === 'missing' || policy === 'if_not_present') && !isLatest(image)) {
      if (await present(client, image)) {
        say(` Image ${image} Skipped - Image is already present locally`);
        continue;
      }
    }
    if (svc.build && opts.ignoreBuildable) {
      say(` Image ${image} Skipped - Image can be built`);
      continue;
    }
    if (scheduled.has(image)) continue;
    scheduled.add(image);
    jobs.push(
      (async () => {
        say(` Image ${image} Pulling`);
        try {
          const { name, tag } = splitRef(image);
          const registryAuth = await opts.auth?.(image);
          await drain(client.imagePull(name, tag, registryAuth ? { registryAuth } : {}));
          say(` Image ${image} Pulled`);
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          say(` Image ${image} ${svc.build ? 'Warning' : 'Error'} ${e.message}`);
          if (svc.build) mustBuild.push(key);
          else if (!opts.ignoreFailures) errors.push(e);
        }
      })(),
    );
  }
  await Promise.all(jobs);
  if (errors.length) throw errors[0];
  return mustBuild;
}

export interface PushOptions {
  services?: string[];
  ignoreFailures?: boolean;
  quiet?: boolean;
  auth?: AuthFor;
  progress?: (line: string) => void;
}

/** Pushes the image of each service that is built and names an image; skips the others. */
export async function push(client: EngineClient, project: Project, opts: PushOptions = {}): Promise<void> {
  const say = opts.quiet ? () => {} : (opts.progress ?? (() => {}));
  const keys = opts.services?.length ? opts.services : Object.keys(project.services);
  for (const key of keys) {
    const svc = project.services[key];
    if (!svc) throw new Error(`no such service: ${key}`);
    const image = declaredImage(project, key, svc);
    if (!svc.build || !image) {
      say(` ${key} Skipped`);
      continue;
    }
    say(` ${image} Pushing`);
    try {
      const { name, tag } = splitRef(image);
      const registryAuth = await opts.auth?.(image);
      await drain(client.imagePush(name, { tag, ...(registryAuth ? { registryAuth } : {}) }));
      say(` ${image} Pushed`);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      say(` ${image} ${opts.ignoreFailures ? 'Warning' : 'Error'} ${e.message}`);
      if (!opts.ignoreFailures) throw e;
    }
  }
}

export interface ContainerImage {
  container: string;
  id: string;
  repository: string;
  tag: string;
  platform: string;
  size: number;
  /** ms since the epoch, when known. */
  created?: number;
}

/** The image of each of the project's containers (one-offs included), by container name. */
export async function containerImages(
  client: EngineClient,
  project: string,
  services: string[] = [],
): Promise<ContainerImage[]> {
  const list = (await client.containerList({ all: true, filters: projectFilter(project) })).filter(
    (c) => !services.length || services.includes(c.Labels?.[LABEL.service] ?? ''),
  );
  const out = await Promise.all(
    list.map(async (c): Promise<ContainerImage> => {
      const container = (c.Names?.[0] ?? c.Id).replace(/^\//, '');
      let repository = '';
      let tag = '';
      if (!c.Image.startsWith('sha256:')) {
        const ref = c.Image.split('@')[0] as string;
        const colon = ref.lastIndexOf(':');
        const slash = ref.lastIndexOf('/');
        repository = colon > slash ? ref.slice(0, colon) : ref;
        tag = colon > slash ? ref.slice(colon + 1) : 'latest';
        if (c.Image.includes('@') && colon <= slash) tag = '';
      }
      try {
        const img = await client.imageInspect(c.Image);
        return {
          container,
          id: img.Id,
          repository,
          tag,
          platform: [img.Os, img.Architecture, img.Variant].filter(Boolean).join('/'),
          size: img.Size ?? 0,
          ...(img.Created ? { created: Date.parse(img.Created) } : {}),
        };
      } catch (err) {
        if (!(isDaemonError(err) && err.statusCode === 404)) throw err;
        return { container, id: c.ImageID, repository, tag, platform: '', size: 0 };
      }
    }),
  );
  return out.sort((a, b) => a.container.localeCompare(b.container));
}
