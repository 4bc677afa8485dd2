/**
 * `berth pull`, `push`, `save`, `load`, `commit`, `login`, `logout` (docker/cli image/pull.go,
 * push.go, save.go, load.go, container/commit.go, registry/login.go, logout.go): credentials
 * come from the Docker client config (docker-config.ts) and progress is shown as docker does.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { registryAuthHeader, eraseAuth, serverKey, storeAuth } from '../docker-config.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { splitImageRef } from '../image-ref.ts';
import { displayProgress } from '../progress.ts';

type Opts = Record<string, unknown>;

/** The registry host of a reference, as distribution/reference splits it (docker.io by default). */
export function registryDomain(name: string): string {
  const slash = name.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = name.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

export async function pullCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const image = args[0] ?? '';
  const ref = splitImageRef(image);
  if (opts.allTags && (ref.tag || ref.digest)) throw new ExitError(1, "tag can't be used with --all-tags/-a");
  const tag = opts.allTags ? undefined : (ref.digest ?? ref.tag ?? 'latest');
  if (!opts.allTags && !ref.tag && !ref.digest && !opts.quiet) ctx.out('Using default tag: latest');
  const client = await ctx.client();
  const registryAuth = await registryAuthHeader(ctx.env, registryDomain(ref.name));
  await displayProgress(
    client.imagePull(ref.name, tag, {
      registryAuth,
      ...(opts.platform ? { platform: opts.platform as string } : {}),
    }),
    ctx.io.stdout,
    { quiet: !!opts.quiet },
  );
  const shown = ref.digest ? `${ref.name}@${ref.digest}` : `${ref.name}${tag ? `:${tag}` : ''}`;
  ctx.out(
    opts.quiet
      ? shown
      : registryDomain(ref.name) === 'docker.io'
        ? `docker.io/${shown.includes('/') ? shown : `library/${shown}`}`
        : shown,
  );
  return 0;
}

export async function pushCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const ref = splitImageRef(args[0] ?? '');
  if (opts.allTags && ref.tag) throw new ExitError(1, "tag can't be used with --all-tags/-a");
  const tag = opts.allTags ? undefined : (ref.tag ?? 'latest');
  if (!opts.allTags && !ref.tag && !opts.quiet) ctx.out('Using default tag: latest');
  const client = await ctx.client();
  const registryAuth = await registryAuthHeader(ctx.env, registryDomain(ref.name));
  await displayProgress(
    client.imagePush(ref.name, { ...(tag ? { tag } : {}), registryAuth }),
    ctx.io.stdout,
    {
      quiet: !!opts.quiet,
    },
  );
  if (opts.quiet) ctx.out(`${ref.name}${tag ? `:${tag}` : ''}`);
  return 0;
}

export async function saveCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const output = opts.output as string | undefined;
  if (!output && ctx.io.stdout.isTTY) {
    throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  }
  const client = await ctx.client();
  const tar = await client.imageSave(args);
  if (output) {
    // save.go writes to a temp file and renames it, so a failed save leaves no partial file.
    const tmp = `${output}.berth-tmp-${process.pid}`;
    await pipeline(tar, createWriteStream(tmp));
    const { rename } = await import('node:fs/promises');
    await rename(tmp, output);
  } else await pipeline(tar, ctx.io.stdout);
  return 0;
}

export async function loadCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const input = opts.input as string | undefined;
  let body: Readable;
  if (input) body = createReadStream(input);
  else {
    if (ctx.io.stdin.isTTY) throw new ExitError(1, 'requested load from stdin, but stdin is empty');
    body = ctx.io.stdin;
  }
  const client = await ctx.client();
  await displayProgress(client.imageLoad(body, { quiet: !!opts.quiet }), ctx.io.stdout, { quiet: false });
  return 0;
}

export async function commitCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const [container = '', reference] = args;
  const ref = reference ? splitImageRef(reference) : undefined;
  const client = await ctx.client();
  const r = await client.containerCommit(container, {
    ...(ref ? { repo: ref.name } : {}),
    ...(ref?.tag ? { tag: ref.tag } : {}),
    ...(opts.message ? { comment: opts.message as string } : {}),
    ...(opts.author ? { author: opts.author as string } : {}),
    pause: opts.pause !== false,
    changes: (opts.change as string[] | undefined) ?? [],
  });
  ctx.out(r.Id);
  return 0;
}

export async function loginCommand(ctx: CliContext, opts: Opts, args: string[]): Promise<number> {
  const server = args[0];
  const username = opts.username as string | undefined;
  let password = opts.password as string | undefined;
  if (opts.passwordStdin) {
    if (!username) throw new ExitError(1, 'Must provide --username with --password-stdin');
    let text = '';
    for await (const c of ctx.io.stdin) text += c;
    password = text.replace(/\r?\n$/, '');
  }
  if (!username || password === undefined) {
    throw new ExitError(1, 'Error: Cannot perform an interactive login from a non TTY device');
  }
  if (opts.password) ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
  const serveraddress = serverKey(server);
  const client = await ctx.client();
  const r = await client.registryLogin({ username, password, serveraddress });
  await storeAuth(ctx.env, { username, password, serveraddress });
  ctx.out(r.Status || 'Login Succeeded');
  return 0;
}

export async function logoutCommand(ctx: CliContext, _opts: Opts, args: string[]): Promise<number> {
  const key = serverKey(args[0]);
  const had = await eraseAuth(ctx.env, args[0]);
  ctx.out(had ? `Removing login credentials for ${key}` : `Not logged in to ${key}`);
  return 0;
}
