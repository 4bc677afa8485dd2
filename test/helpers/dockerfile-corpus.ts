/**
 * The Dockerfile corpus (test/fixtures/dockerfiles/<case>/): each case is a build context with
 * a Dockerfile, an optional build.json ({ dockerfile, buildArgs, target, labels }) and an
 * expected.json recorded from Docker's classic builder by test/fixtures/record-dockerfiles.sh.
 *
 * The facts compared: the image config fields a Dockerfile sets, the author, the number of
 * layers, the history (created_by with content hashes and ids masked), and the filesystem
 * entries that differ from the base busybox image (type, mode, owner, size, content hash, link
 * target; not times). A case whose build fails records Docker's error line instead.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readTar } from '../../src/common/index.ts';
import { REPO_ROOT, run } from './daemon.ts';

export const CORPUS = join(REPO_ROOT, 'test', 'fixtures', 'dockerfiles');

export interface CaseOptions {
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  labels?: Record<string, string>;
}

export interface CaseFacts {
  error?: string;
  config?: Record<string, unknown>;
  author?: string | null;
  layers?: number;
  history?: string[];
  files?: Record<string, string>;
}

export const CONFIG_FIELDS = [
  'Env',
  'Cmd',
  'Entrypoint',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'Labels',
  'Healthcheck',
  'StopSignal',
  'Shell',
  'OnBuild',
] as const;

export async function listCases(): Promise<string[]> {
  const names = await readdir(CORPUS, { withFileTypes: true });
  return names
    .filter((n) => n.isDirectory())
    .map((n) => n.name)
    .sort();
}

export async function caseOptions(name: string): Promise<CaseOptions> {
  const p = join(CORPUS, name, 'build.json');
  return existsSync(p) ? (JSON.parse(await readFile(p, 'utf8')) as CaseOptions) : {};
}

export async function expectedFacts(name: string): Promise<CaseFacts | undefined> {
  const p = join(CORPUS, name, 'expected.json');
  return existsSync(p) ? (JSON.parse(await readFile(p, 'utf8')) as CaseFacts) : undefined;
}

/** `docker -H host …` with the classic builder and a config dir of its own. */
export function dockerAt(host: string, configDir: string, ...args: string[]) {
  return run('docker', ['-H', host, ...args], {
    env: { DOCKER_CONFIG: configDir, DOCKER_BUILDKIT: '0' },
    timeoutMs: 180_000,
  });
}

/** `docker build` arguments of a case (the context is the case directory). */
export function buildArgs(name: string, o: CaseOptions, tag: string, extra: string[] = []): string[] {
  const args = ['build', '-q', '-t', tag, ...extra];
  if (o.dockerfile) args.push('-f', join(CORPUS, name, o.dockerfile));
  for (const [k, v] of Object.entries(o.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
  for (const [k, v] of Object.entries(o.labels ?? {})) args.push('--label', `${k}=${v}`);
  if (o.target) args.push('--target', o.target);
  args.push(join(CORPUS, name));
  return args;
}

/**
 * Paths a container adds to its rootfs whatever the image (mount points, Docker's markers; the
 * `etc` directory itself, which Docker makes for /etc/hosts even on a scratch image).
 */
const IGNORED = /^(\.dockerenv|etc|etc\/(hostname|hosts|resolv\.conf|mtab)|dev(\/.*)?|proc|sys)$/;

/** Every entry of an image's filesystem (`docker create` + `docker export`) as a fact line. */
export async function fsListing(host: string, configDir: string, ref: string): Promise<Map<string, string>> {
  const c = await dockerAt(host, configDir, 'create', '--entrypoint', '/nonexistent', ref);
  if (c.code !== 0) throw new Error(`docker create ${ref}: ${c.stderr}`);
  const id = c.stdout.trim();
  try {
    const child = spawn('docker', ['-H', host, 'export', id], {
      env: { ...process.env, DOCKER_CONFIG: configDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out = new Map<string, string>();
    for await (const e of readTar(child.stdout)) {
      const h = e.header;
      const name = h.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      if (name === '' || name === '.' || IGNORED.test(name)) continue;
      let fact = `${h.type} ${h.mode.toString(8).padStart(4, '0')} ${h.uid}:${h.gid}`;
      if (h.type === 'file') {
        const hash = createHash('sha256');
        for await (const chunk of e.body) hash.update(chunk as Buffer);
        fact += ` ${h.size} ${hash.digest('hex').slice(0, 16)}`;
      } else if (h.type === 'symlink') fact += ` -> ${h.linkname}`;
      else if (h.type === 'hardlink') fact += ` => ${h.linkname.replace(/^\.?\/+/, '')}`;
      out.set(name, fact);
    }
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('close', r)));
    return out;
  } finally {
    await dockerAt(host, configDir, 'rm', '-v', id);
  }
}

/** The entries of `img` that are new or differ from `base`, and those it removed. */
export function fsDiff(base: Map<string, string>, img: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of img) if (base.get(k) !== v) out[k] = v;
  for (const k of base.keys()) if (!img.has(k)) out[k] = 'absent';
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const empty = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && Object.keys(v).length === 0);

/** A history line with what differs between builders by design masked: content hashes, ids. */
export function maskHistory(createdBy: string): string {
  return (
    createdBy
      // No word boundary before: moby writes `--chown=1:1file:<hash>` without a space.
      .replace(/(file|dir|multi):[0-9a-f]{64}\b/g, '$1:<hash>')
      .replace(/\bfrom [0-9a-f]{12,64}\b/g, 'from <id>')
      .replace(/sha256:[0-9a-f]{64}/g, '<id>')
  );
}

/** The facts of a built image (see the file comment). */
export async function imageFacts(
  host: string,
  configDir: string,
  ref: string,
  base: Map<string, string>,
): Promise<CaseFacts> {
  const r = await dockerAt(host, configDir, 'image', 'inspect', ref);
  if (r.code !== 0) throw new Error(`inspect ${ref}: ${r.stderr}`);
  // biome-ignore lint/suspicious/noExplicitAny: inspect output is read field by field
  const img = (JSON.parse(r.stdout) as Array<Record<string, any>>)[0]!;
  const config: Record<string, unknown> = {};
  for (const f of CONFIG_FIELDS) {
    const v = img.Config?.[f];
    config[f] = empty(v) ? null : v;
  }
  const h = await dockerAt(host, configDir, 'history', '--no-trunc', '--format', '{{.CreatedBy}}', ref);
  if (h.code !== 0) throw new Error(`history ${ref}: ${h.stderr}`);
  const history = h.stdout
    .split('\n')
    .filter((l) => l !== '')
    .reverse()
    .map(maskHistory);
  return {
    config,
    author: img.Author || null,
    layers: (img.RootFS?.Layers ?? []).length,
    history,
    files: fsDiff(base, await fsListing(host, configDir, ref)),
  };
}

/** Builds a case and returns its facts, or the error line the build ended with. */
export async function buildFacts(
  host: string,
  configDir: string,
  name: string,
  base: Map<string, string>,
  extra: string[] = [],
): Promise<CaseFacts> {
  const tag = `corpus-${name}:latest`;
  const r = await dockerAt(host, configDir, ...buildArgs(name, await caseOptions(name), tag, extra));
  if (r.code !== 0) {
    const lines = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => l.trim() !== '');
    return { error: lines[lines.length - 1]!.trim() };
  }
  return imageFacts(host, configDir, tag, base);
}
