/**
 * berth's registry server: the OCI distribution spec v1.1 endpoints
 * (reference/distribution-endpoints.md) plus Docker's catalog, over RegistryStorage.
 * Blobs: monolithic (POST ?digest=, or POST then PUT), chunked (PATCH with Content-Range, then
 * PUT), cross-repository mount, HEAD/GET with Range, DELETE. Manifests: the four media types by
 * tag and digest, blobs they reference must exist (MANIFEST_BLOB_UNKNOWN), subject → referrers.
 * Tags list and catalog page with `n`/`last` and a `Link` header. The v1 search API
 * (`/v1/_ping`, `/v1/search`) answers `docker search` over the repositories. Every upload is verified
 * against its digest before it becomes visible.
 *
 * Lifecycle: `createRegistryHandler(options)` gives a node:http request listener; the caller
 * (daemon/registry-main.ts) makes the HTTP or HTTPS server and closes it.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { type Digest, isDigest, type Logger, sha256 } from '../../common/index.ts';
import { type Descriptor, type ImageIndex, type ImageManifest, MediaType } from '../../oci/index.ts';
import type { Authenticator } from './auth.ts';
import { NAME_RE, type RegistryStorage, TAG_RE } from './storage.ts';

export interface RegistryServerOptions {
  storage: RegistryStorage;
  log: Logger;
  /** Checks credentials; none: anonymous access to everything. */
  auth?: Authenticator;
  /** Allow DELETE of manifests and blobs (distribution's storage.delete.enabled). */
  deleteEnabled?: boolean;
}

const MANIFEST_TYPES = new Set<string>([
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
]);
const MAX_MANIFEST = 4 * 1024 * 1024;

class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

const errors = {
  blobUnknown: (d: string) => new RegistryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', d),
  uploadUnknown: () => new RegistryError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry'),
  uploadInvalid: (m: string) => new RegistryError(400, 'BLOB_UPLOAD_INVALID', m),
  digestInvalid: (m: string) => new RegistryError(400, 'DIGEST_INVALID', m),
  manifestUnknown: (r: string) => new RegistryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { Tag: r }),
  manifestInvalid: (m: string) => new RegistryError(400, 'MANIFEST_INVALID', m),
  manifestBlobUnknown: (d: string) =>
    new RegistryError(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', d),
  nameInvalid: (n: string) => new RegistryError(400, 'NAME_INVALID', 'invalid repository name', n),
  nameUnknown: (n: string) =>
    new RegistryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name: n }),
  unsupported: (m = 'The operation is unsupported.') => new RegistryError(405, 'UNSUPPORTED', m),
  tooLarge: () => new RegistryError(413, 'SIZE_INVALID', 'manifest too large'),
  rangeInvalid: () => new RegistryError(416, 'BLOB_UPLOAD_INVALID', 'content range out of order'),
};

type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; ref: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

export function parseRoute(pathname: string): Route | undefined {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'base' };
  if (pathname === '/v2/_catalog') return { kind: 'catalog' };
  const m =
    /^\/v2\/(.+?)\/(tags\/list|manifests\/([^/]+)|blobs\/uploads\/?([^/]*)|blobs\/([^/]+)|referrers\/([^/]+))$/.exec(
      pathname,
    );
  if (!m) return undefined;
  const name = m[1]!;
  const what = m[2]!;
  if (what === 'tags/list') return { kind: 'tags', name };
  if (what.startsWith('manifests/')) return { kind: 'manifest', name, ref: decodeURIComponent(m[3]!) };
  if (what.startsWith('blobs/uploads'))
    return m[4] ? { kind: 'upload', name, id: m[4] } : { kind: 'uploads', name };
  if (what.startsWith('referrers/')) return { kind: 'referrers', name, digest: decodeURIComponent(m[6]!) };
  return { kind: 'blob', name, digest: decodeURIComponent(m[5]!) };
}

/** The scope a request needs (token.md): pull for reads, push for writes, delete for DELETE. */
export function requiredAccess(
  route: Route,
  method: string,
): { type: string; name: string; actions: string[] } | undefined {
  if (route.kind === 'base') return undefined;
  if (route.kind === 'catalog') return { type: 'registry', name: 'catalog', actions: ['*'] };
  const action = method === 'GET' || method === 'HEAD' ? 'pull' : method === 'DELETE' ? 'delete' : 'push';
  return { type: 'repository', name: route.name, actions: [action] };
}

export function createRegistryHandler(options: RegistryServerOptions) {
  const { storage, log } = options;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    handle(req, res, options).then(
      () =>
        log.debug('registry request', {
          method: req.method,
          url: req.url,
          status: res.statusCode,
          ms: Date.now() - started,
        }),
      (err) => {
        const e =
          err instanceof RegistryError
            ? err
            : new RegistryError(500, 'UNKNOWN', err instanceof Error ? err.message : String(err));
        if (e.status === 500) log.error('registry request failed', { method: req.method, url: req.url, err });
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendError(res, e);
        req.resume();
      },
    );
    void storage;
  };
}

function sendError(res: ServerResponse, e: RegistryError): void {
  const body = JSON.stringify({
    errors: [{ code: e.code, message: e.message, ...(e.detail !== undefined ? { detail: e.detail } : {}) }],
  });
  res.writeHead(e.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'docker-distribution-api-version': 'registry/2.0',
    ...(e.status === 405 ? {} : {}),
  });
  res.end(body);
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  body?: string | Buffer,
): void {
  res.writeHead(status, {
    'docker-distribution-api-version': 'registry/2.0',
    ...headers,
    'content-length': body ? Buffer.byteLength(body) : 0,
  });
  res.end(body);
}

async function readAll(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw errors.tooLarge();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: RegistryServerOptions,
): Promise<void> {
  const { storage } = options;
  const url = new URL(req.url ?? '/', 'http://registry.invalid');
  const method = req.method ?? 'GET';
  if (url.pathname === '/token' && method === 'GET' && options.auth?.issue) {
    const r = await options.auth.issue(req, url);
    return send(res, r.status, { 'content-type': 'application/json' }, JSON.stringify(r.body));
  }
  if (url.pathname === '/v1/_ping' || url.pathname === '/v1/search') {
    if (method !== 'GET' && method !== 'HEAD') throw errors.unsupported();
    if (options.auth) {
      const ok = await options.auth.authorize(req, {
        type: 'registry',
        name: 'catalog',
        actions: ['search'],
      });
      if (!ok.allowed) {
        res.setHeader('www-authenticate', ok.challenge);
        throw new RegistryError(401, 'UNAUTHORIZED', 'authentication required', ok.detail);
      }
    }
    if (url.pathname === '/v1/_ping')
      return send(
        res,
        200,
        { 'content-type': 'application/json', 'x-docker-registry-standalone': 'true' },
        '{}',
      );
    return sendSearch(res, url, await storage.repositories());
  }
  const route = parseRoute(url.pathname);
  if (!route) throw new RegistryError(404, 'NOT_FOUND', 'not found');
  if (options.auth) {
    // A cross-repository mount reads the source repository: it needs pull there (distribution's
    // appendAccessRecords), or the request is refused.
    const from =
      route.kind === 'uploads' && url.searchParams.get('mount') ? url.searchParams.get('from') : null;
    const needs = [
      requiredAccess(route, method),
      ...(from ? [{ type: 'repository', name: from, actions: ['pull'] }] : []),
    ];
    for (const access of needs) {
      const ok = await options.auth.authorize(req, access);
      if (!ok.allowed) {
        res.setHeader('www-authenticate', ok.challenge);
        throw new RegistryError(401, 'UNAUTHORIZED', 'authentication required', ok.detail);
      }
    }
  }
  if ('name' in route && !NAME_RE.test(route.name)) throw errors.nameInvalid(route.name);

  switch (route.kind) {
    case 'base':
      return send(res, 200, { 'content-type': 'application/json' }, '{}');
    case 'catalog': {
      const all = await storage.repositories();
      return sendPage(res, url, all, 'repositories', '/v2/_catalog');
    }
    case 'tags': {
      if (!(await storage.repositoryExists(route.name))) throw errors.nameUnknown(route.name);
      const tags = await storage.tags(route.name);
      return sendPage(res, url, tags, 'tags', `/v2/${route.name}/tags/list`, { name: route.name });
    }
    case 'blob':
      return blob(req, res, method, route.name, route.digest, options);
    case 'uploads':
      if (method !== 'POST') throw errors.unsupported();
      return startUpload(req, res, url, route.name, storage);
    case 'upload':
      return upload(req, res, method, url, route.name, route.id, storage);
    case 'manifest':
      return manifest(req, res, method, route.name, route.ref, options);
    case 'referrers':
      return referrers(res, url, route.name, route.digest, storage);
  }
}

/**
 * The v1 search API (`GET /v1/search?q=&n=&page=`, as Docker Hub's index answers `docker
 * search`): the repositories whose name contains the term (case-insensitively), by name, `n`
 * per page (25 by default, at most 100). A private registry has no stars, descriptions or
 * official images.
 */
export function searchRepositories(
  all: string[],
  query: { q?: string | null; n?: string | null; page?: string | null },
) {
  const q = (query.q ?? '').toLowerCase();
  const n = Math.min(100, Math.max(1, Number.parseInt(query.n ?? '', 10) || 25));
  const page = Math.max(1, Number.parseInt(query.page ?? '', 10) || 1);
  const matches = all.filter((name) => name.toLowerCase().includes(q)).sort();
  return {
    query: query.q ?? '',
    num_results: matches.length,
    num_pages: Math.ceil(matches.length / n),
    page,
    page_size: n,
    results: matches.slice((page - 1) * n, page * n).map((name) => ({
      name,
      description: '',
      star_count: 0,
      is_official: false,
      is_automated: false,
    })),
  };
}

function sendSearch(res: ServerResponse, url: URL, all: string[]): void {
  const p = url.searchParams;
  const body = searchRepositories(all, { q: p.get('q'), n: p.get('n'), page: p.get('page') });
  send(res, 200, { 'content-type': 'application/json' }, JSON.stringify(body));
}

/** Pagination by `n` and `last` with an RFC 5988 Link header when more follow. */
function sendPage(
  res: ServerResponse,
  url: URL,
  all: string[],
  key: string,
  path: string,
  extra: Record<string, unknown> = {},
): void {
  const last = url.searchParams.get('last');
  const nParam = url.searchParams.get('n');
  let list = last ? all.filter((x) => x > last) : all;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (nParam !== null) {
    const n = Number(nParam);
    if (!Number.isInteger(n) || n < 0)
      throw new RegistryError(400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested');
    if (list.length > n && n > 0) {
      list = list.slice(0, n);
      headers.link = `<${path}?n=${n}&last=${encodeURIComponent(list.at(-1)!)}>; rel="next"`;
    } else if (n === 0) list = [];
  }
  send(res, 200, headers, JSON.stringify({ ...extra, [key]: list }));
}

function checkDigest(d: string): Digest {
  if (!isDigest(d)) throw errors.digestInvalid(`invalid digest ${d}`);
  return d;
}

async function blob(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  name: string,
  digestText: string,
  options: RegistryServerOptions,
): Promise<void> {
  const { storage } = options;
  const digest = checkDigest(digestText);
  if (method === 'DELETE') {
    if (!options.deleteEnabled) throw errors.unsupported();
    if (!(await storage.unlinkBlob(name, digest))) throw errors.blobUnknown(digest);
    return send(res, 202, {});
  }
  if (method !== 'GET' && method !== 'HEAD') throw errors.unsupported();
  if (!(await storage.hasBlob(name, digest))) throw errors.blobUnknown(digest);
  const { size } = await storage.content.info(digest);
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'docker-content-digest': digest,
    etag: `"${digest}"`,
    'accept-ranges': 'bytes',
    'cache-control': 'max-age=31536000',
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), size - 1);
    } else start = Math.max(0, size - Number(range[2]));
    if (start > end || start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  res.writeHead(status, {
    'docker-distribution-api-version': 'registry/2.0',
    ...headers,
    'content-length': end - start + 1,
  });
  if (method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await pipeline(await storage.content.get(digest, { start, end }), res);
}

async function startUpload(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  name: string,
  storage: RegistryStorage,
): Promise<void> {
  const mount = url.searchParams.get('mount');
  const from = url.searchParams.get('from');
  if (mount && isDigest(mount)) {
    // Cross-repository mount: 201 when `from` has it (or, without from, when the blob exists).
    const source = from && NAME_RE.test(from) ? await storage.hasBlob(from, mount) : false;
    if (source) {
      await storage.linkBlob(name, mount);
      req.resume();
      return send(res, 201, { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount });
    }
  }
  const digest = url.searchParams.get('digest');
  if (digest) {
    // Single-POST monolithic upload.
    const d = checkDigest(digest);
    await verifyInto(storage, req, d);
    await storage.linkBlob(name, d);
    return send(res, 201, { location: `/v2/${name}/blobs/${d}`, 'docker-content-digest': d });
  }
  req.resume();
  const id = randomUUID();
  await pipeline(async function* () {}, createWriteStream(storage.uploadPath(id)));
  return send(res, 202, {
    location: `/v2/${name}/blobs/uploads/${id}`,
    'docker-upload-uuid': id,
    range: '0-0',
    'oci-chunk-min-length': 0,
  });
}

/** Streams `source` into the content store, checking the digest; nothing is stored on mismatch. */
async function verifyInto(
  storage: RegistryStorage,
  source: NodeJS.ReadableStream,
  digest: Digest,
  size?: number,
) {
  try {
    await storage.content.write(source as import('node:stream').Readable, {
      digest,
      ...(size !== undefined ? { size } : {}),
    });
  } catch (err) {
    const m = err instanceof Error ? err.message : String(err);
    if (/digest mismatch/.test(m))
      throw errors.digestInvalid('provided digest did not match uploaded content');
    if (/size mismatch/.test(m))
      throw new RegistryError(400, 'SIZE_INVALID', 'provided length did not match content length');
    throw err;
  }
}

async function uploadSize(storage: RegistryStorage, id: string): Promise<number> {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw errors.uploadUnknown();
  try {
    return (await stat(storage.uploadPath(id))).size;
  } catch {
    throw errors.uploadUnknown();
  }
}

async function upload(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  url: URL,
  name: string,
  id: string,
  storage: RegistryStorage,
): Promise<void> {
  const size = await uploadSize(storage, id);
  const location = `/v2/${name}/blobs/uploads/${id}`;
  const rangeHeader = (n: number) => `0-${Math.max(0, n - 1)}`;
  if (method === 'GET') {
    return send(res, 204, { location, range: rangeHeader(size), 'docker-upload-uuid': id });
  }
  if (method === 'DELETE') {
    await rm(storage.uploadPath(id), { force: true });
    req.resume();
    return send(res, 204, {});
  }
  const append = async () => {
    const cr = req.headers['content-range'];
    if (cr) {
      const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(cr);
      if (!m || Number(m[1]) !== size) throw errors.rangeInvalid();
    }
    await pipeline(req, createWriteStream(storage.uploadPath(id), { flags: 'a' }));
  };
  if (method === 'PATCH') {
    await append();
    const now = await uploadSize(storage, id);
    return send(res, 202, { location, range: rangeHeader(now), 'docker-upload-uuid': id });
  }
  if (method === 'PUT') {
    const digest = checkDigest(url.searchParams.get('digest') ?? '');
    await append();
    await verifyInto(storage, createReadStream(storage.uploadPath(id)), digest);
    await rm(storage.uploadPath(id), { force: true });
    await storage.linkBlob(name, digest);
    return send(res, 201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
  }
  throw errors.unsupported();
}

async function manifest(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  name: string,
  ref: string,
  options: RegistryServerOptions,
): Promise<void> {
  const { storage } = options;
  const byDigest = isDigest(ref);
  if (!byDigest && !TAG_RE.test(ref))
    throw new RegistryError(400, 'TAG_INVALID', 'manifest tag did not match URI', ref);
  if (method === 'PUT') return putManifest(req, res, name, ref, byDigest, storage);
  if (method === 'DELETE') {
    if (!options.deleteEnabled) throw errors.unsupported();
    const ok = byDigest
      ? await storage.deleteManifest(name, ref as Digest)
      : await storage.deleteTag(name, ref);
    if (!ok) throw errors.manifestUnknown(ref);
    return send(res, 202, {});
  }
  if (method !== 'GET' && method !== 'HEAD') throw errors.unsupported();
  const digest = byDigest ? (ref as Digest) : await storage.resolveTag(name, ref);
  const mediaType = digest ? await storage.manifestType(name, digest) : undefined;
  if (!digest || !mediaType) throw errors.manifestUnknown(ref);
  const bytes = await storage.content.readBytes(digest, MAX_MANIFEST);
  res.writeHead(200, {
    'docker-distribution-api-version': 'registry/2.0',
    'content-type': mediaType,
    'content-length': bytes.length,
    'docker-content-digest': digest,
    etag: `"${digest}"`,
  });
  res.end(method === 'HEAD' ? undefined : bytes);
}

async function putManifest(
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  ref: string,
  byDigest: boolean,
  storage: RegistryStorage,
): Promise<void> {
  const bytes = await readAll(req, MAX_MANIFEST);
  const digest = sha256(bytes);
  if (byDigest && ref !== digest)
    throw errors.digestInvalid(`manifest digest ${digest} does not match ${ref}`);
  let parsed: (ImageManifest | ImageIndex) & { mediaType?: string; subject?: Descriptor };
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw errors.manifestInvalid('manifest invalid: not JSON');
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  const mediaType = parsed.mediaType ?? contentType;
  if (!MANIFEST_TYPES.has(mediaType))
    throw errors.manifestInvalid(`unsupported manifest media type ${mediaType}`);
  if (parsed.mediaType && contentType && contentType !== parsed.mediaType) {
    throw errors.manifestInvalid(
      `manifest media type ${parsed.mediaType} does not match Content-Type ${contentType}`,
    );
  }
  if (parsed.schemaVersion !== 2) throw errors.manifestInvalid('schemaVersion must be 2');
  if (mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList) {
    const idx = parsed as ImageIndex;
    if (!Array.isArray(idx.manifests)) throw errors.manifestInvalid('index without manifests');
    for (const m of idx.manifests) {
      if (!isDigest(m.digest) || !(await storage.manifestType(name, m.digest)))
        throw errors.manifestBlobUnknown(m.digest);
    }
  } else {
    const m = parsed as ImageManifest;
    if (!m.config || !Array.isArray(m.layers))
      throw errors.manifestInvalid('manifest without config or layers');
    for (const d of [m.config, ...m.layers]) {
      if (d.urls?.length) continue; // foreign layers live elsewhere
      if (!isDigest(d.digest) || !(await storage.hasBlob(name, d.digest)))
        throw errors.manifestBlobUnknown(d.digest);
    }
  }
  await storage.content.writeBytes(bytes, { digest });
  await storage.putManifest(name, digest, mediaType, byDigest ? undefined : ref);
  const headers: Record<string, string> = {
    location: `/v2/${name}/manifests/${digest}`,
    'docker-content-digest': digest,
  };
  if (parsed.subject && isDigest(parsed.subject.digest)) {
    await storage.addReferrer(name, parsed.subject.digest, digest);
    headers['oci-subject'] = parsed.subject.digest;
  }
  send(res, 201, headers);
}

async function referrers(
  res: ServerResponse,
  url: URL,
  name: string,
  digestText: string,
  storage: RegistryStorage,
) {
  const subject = checkDigest(digestText);
  const artifactType = url.searchParams.get('artifactType');
  const manifests: Descriptor[] = [];
  for (const d of await storage.referrers(name, subject)) {
    const bytes = await storage.content.readBytes(d, MAX_MANIFEST);
    const m = JSON.parse(bytes.toString('utf8')) as ImageManifest & { artifactType?: string };
    const type = m.artifactType ?? m.config?.mediaType;
    if (artifactType && type !== artifactType) continue;
    manifests.push({
      mediaType: m.mediaType ?? MediaType.ociManifest,
      digest: d,
      size: bytes.length,
      ...(type ? { artifactType: type } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    });
  }
  const headers: Record<string, string> = { 'content-type': MediaType.ociIndex };
  if (artifactType) headers['oci-filters-applied'] = 'artifactType';
  send(res, 200, headers, JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
}

/**
 * Garbage collection (distribution's `registry garbage-collect`): marks every blob a manifest
 * revision of any repository references (configs, layers, index children, the manifests
 * themselves), then deletes the unmarked blobs and the layer links to them. Run it while the
 * server is not accepting pushes. Returns the removed digests.
 */
export async function garbageCollect(
  storage: RegistryStorage,
  options: { dryRun?: boolean } = {},
): Promise<Digest[]> {
  const marked = new Set<string>();
  for (const { digest } of await storage.allRevisions()) {
    marked.add(digest);
    let parsed: ImageManifest & ImageIndex;
    try {
      parsed = JSON.parse((await storage.content.readBytes(digest, MAX_MANIFEST)).toString('utf8'));
    } catch {
      continue;
    }
    if (parsed.config) marked.add(parsed.config.digest);
    for (const l of parsed.layers ?? []) marked.add(l.digest);
    for (const m of parsed.manifests ?? []) marked.add(m.digest);
  }
  const removed: Digest[] = [];
  for (const d of await storage.content.list()) {
    if (marked.has(d)) continue;
    removed.push(d);
    if (!options.dryRun) await storage.content.delete(d);
  }
  if (!options.dryRun) {
    const gone = new Set<string>(removed);
    for (const name of await storage.repositories()) {
      for (const d of await storage.layerLinks(name)) if (gone.has(d)) await storage.removeLayerLink(name, d);
    }
  }
  return removed;
}
