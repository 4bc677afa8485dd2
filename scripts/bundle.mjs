#!/usr/bin/env node
/**
 * Bundles the executables (`berth`, `berth-runtime`, `berthd`) into dist/bundle/ so each start
 * loads a few files instead of hundreds of ESM modules: `npm run build` runs it after tsc.
 *
 *   node scripts/bundle.mjs            build dist/bundle/ from dist/src/bin/*.js
 *   node scripts/bundle.mjs --if-stale build only when bin/ would not use the bundle (see isFresh)
 *
 * Input is tsc's output (dist/src), so the bundle runs exactly what tsc emitted; esbuild follows
 * tsc's source maps, so dist/bundle/*.map point at src/*.ts. Code splitting keeps each command's
 * dynamic import() a separate chunk: `berth ps` does not parse the compose or build code.
 *
 * bin/<name> loads dist/bundle/<name>.mjs when it is at least as new as dist/src/bin/<name>.js
 * (tsc rewrites every output on each run), else the unbundled dist/src/bin/<name>.js: after a
 * bare `npx tsc` the executables stay correct, only slower, until this script runs again.
 *
 * The new bundle is written to a temporary directory and swapped in with rename, so a
 * concurrent caller sees either the whole old bundle, the whole new one, or none (and falls back).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRIES = ['berth', 'berth-runtime', 'berthd'];

/**
 * In a bundle, import.meta.url is the bundle file's, not the module's: a path made relative to it
 * points elsewhere. Modules reach package files through common/package-root.ts instead; the build
 * fails on any other module that uses import.meta.url. These use it in ways that hold anywhere.
 */
const IMPORT_META_OK = new Set([
  'dist/src/common/package-root.js', // walks up to package.json
  'dist/src/common/lazy-builtins.js', // createRequire of built-ins only
  'dist/src/platform/syscalls.js', // createRequire of an absolute path
  'dist/src/cli/version-line.js', // walks up to .git
]);
const outdir = join(root, 'dist', 'bundle');

/** Whether bin/<name> would load the bundle (the rule bin/<name> applies). */
export function isFresh(name) {
  const bundle = statSync(join(outdir, `${name}.mjs`), { throwIfNoEntry: false });
  const built = statSync(join(root, 'dist', 'src', 'bin', `${name}.js`), { throwIfNoEntry: false });
  return bundle !== undefined && (built === undefined || bundle.mtimeMs >= built.mtimeMs);
}

/**
 * Entries built together share chunks, and tree-shaking is per build: with berthd in the CLIs'
 * build, pino (its logger) would load with every `berth-runtime` call through the chunk of
 * common/. So the CLIs are one build and berthd another.
 */
const BUILDS = [['berth', 'berth-runtime'], ['berthd']];

export async function bundle() {
  const results = await Promise.all(BUILDS.map(buildEntries));
  const inputs = results.flatMap((r) => Object.keys(r.metafile.inputs));
  const outputFiles = results.flatMap((r) => r.outputFiles);
  const misplaced = [...new Set(inputs)].filter(
    (f) => f.startsWith('dist/src/') && !IMPORT_META_OK.has(f) && readFileSync(join(root, f), 'utf8').includes('import.meta.url'),
  );
  if (misplaced.length > 0) {
    throw new Error(`import.meta.url in bundled modules (use packageRoot() from src/common): ${misplaced.join(', ')}`);
  }
  const tmp = `${outdir}.new-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const file of outputFiles) {
    const dest = join(tmp, file.path.slice(outdir.length + 1));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, file.contents);
  }
  // Another build may swap its own in between our two renames: then ours goes in on a later try.
  for (let attempt = 0; ; attempt++) {
    const old = `${outdir}.old-${process.pid}-${attempt}`;
    try {
      renameSync(outdir, old);
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    try {
      renameSync(tmp, outdir);
      rmSync(old, { recursive: true, force: true });
      return;
    } catch (err) {
      rmSync(old, { recursive: true, force: true });
      if ((err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') || attempt >= 10) throw err;
    }
  }
}

async function buildEntries(entries) {
  const { build } = await import('esbuild');
  return build({
    absWorkingDir: root,
    entryPoints: entries.map((name) => ({ in: `dist/src/bin/${name}.js`, out: name })),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir,
    write: false,
    sourcemap: 'linked',
    sourcesContent: false,
    // Node resolves the npm dependencies' CommonJS require() of builtins through this.
    banner: {
      js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);",
    },
    chunkNames: 'chunks/[name]-[hash]',
    // .mjs: Node knows the format from the name and does not look for a package.json per file.
    outExtension: { '.js': '.mjs' },
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [pureImports(['pino']), lazyBuiltin('commander', 'node:child_process')],
    metafile: true,
  });
}

/**
 * Marks packages whose import has no side effects, so esbuild drops them where nothing used is
 * imported from them: berth-runtime and the CLI reach src/common/log.ts (pino) only through
 * `common/index.ts`, and never call createLogger.
 */
function pureImports(names) {
  const filter = new RegExp(`^(${names.join('|')})$`);
  return {
    name: 'pure-imports',
    setup(b) {
      b.onResolve({ filter }, async (args) => {
        if (args.pluginData === 'pure') return undefined;
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'pure',
        });
        return { ...resolved, sideEffects: false };
      });
    },
  };
}

/**
 * Loads `builtin` on first property access in the modules of package `pkg`: commander requires
 * node:child_process (and with it net, stream and dgram) at load time for executable subcommands,
 * which berth never uses.
 */
function lazyBuiltin(pkg, builtin) {
  const name = builtin.replace(/^node:/, '');
  return {
    name: `lazy-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(node:)?${name}$`) }, (args) =>
        args.importer.includes(`/node_modules/${pkg}/`) ? { path: builtin, namespace: 'lazy-builtin' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
        contents: `let m;\nmodule.exports = new Proxy({}, { get: (_, k) => (m ??= require(${JSON.stringify(args.path)}))[k] });\n`,
        loader: 'js',
      }));
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === '--if-stale' && ENTRIES.every(isFresh)) process.exit(0);
  await bundle();
}
