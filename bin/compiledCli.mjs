// Loads the CLIs fast: the TypeScript sources compiled into one module by esbuild (an ES module for
// detcd-sim; for `check` and the `detcd` server, a CommonJS script run with V8's code cache),
// cached under node_modules/.cache/detcd-sim/<checkout> and rebuilt whenever a source it was built
// from changes (the cache key is a hash of every input file's content, the Node and esbuild
// versions and the checkout's path). Transpiling ~150 files through tsx's loader on every start
// cost 0.4-1 s (more on a busy machine, and again in every sweep worker and cluster member); a
// cache hit costs a stat of each input (their contents are hashed only when a size or modification
// time changed).
//
// Plain JavaScript: it runs before any TypeScript loader. DETCD_SIM_FROM_SOURCE=1 (the server:
// DETCD_FROM_SOURCE=1) skips the cache and loads the sources through tsx; DETCD_SIM_DEBUG=1
// (DETCD_DEBUG=1) says why a build was not used.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * A folder of the checkout's own: two checkouts may share one node_modules (a tree of main with
 * this one's node_modules, as a bench's baseline), and members of both may start at once.
 */
const cacheDir = join(root, 'node_modules', '.cache', 'detcd-sim', `${basename(root)}-${fnv1a(root)}`);

/** FNV-1a, 32 bits, in hex: names the checkout's folder (node:crypto costs a start some 25 modules). */
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/**
 * The entries compiled, each into a bundle of its own: the whole CLI, `check` alone (a user's
 * one-shot check should not load the simulator: bin/detcd-sim-check.ts), and the server
 * (bin/detcd.ts). `check` and the server are CommonJS bundles run through `vm.Script`, so that V8's
 * code cache can keep their compiled functions between processes (`loadWithCodeCache`); Node 20
 * has no code cache for ES modules. The server's bundle holds its packages too (grpc-js,
 * protobufjs, prom-client, yaml: their inputs are hashed like the sources'), so that they come
 * from the code cache as well, with none of Node's module resolution: a member's start to serving
 * took 0.73-0.82 s of CPU as an ES module with its packages outside, 0.53-0.62 s as CommonJS with
 * them outside, 0.33-0.37 s as CommonJS with them in (tsx: 1.5-1.9 s; docs/journal/
 * runtime-performance.md, task serverbundle).
 */
const entries = {
  'detcd-sim': { source: join(root, 'bin', 'detcd-sim.ts'), bundle: join(cacheDir, 'detcd-sim.mjs'), manifest: join(cacheDir, 'manifest.json'), format: 'esm', env: 'DETCD_SIM' },
  check: { source: join(root, 'bin', 'detcd-sim-check.ts'), bundle: join(cacheDir, 'detcd-sim-check.cjs'), manifest: join(cacheDir, 'check-cjs-manifest.json'), format: 'cjs', codeCache: 'detcd-sim-check', env: 'DETCD_SIM' },
  detcd: { source: join(root, 'bin', 'detcd.ts'), bundle: join(cacheDir, 'detcd.cjs'), manifest: join(cacheDir, 'detcd-manifest.json'), format: 'cjs', codeCache: 'detcd', env: 'DETCD', withPackages: true },
};

/** Registers tsx's loader: for the sources themselves, or for patched copies a command imports. */
export async function registerTypeScript() {
  const { register } = await import('tsx/esm/api');
  register();
}

/**
 * The CLI module (`name`: "detcd-sim", or "check" for that command alone): from the cache when it
 * is fresh, else built now; from the sources if building fails. Its `main`, and `keepCompiledCode`
 * to call once the work is done (a no-op but for `check`: see `loadWithCodeCache`).
 */
export async function importCli(name = 'detcd-sim') {
  const entry = entries[name];
  if (process.env[`${entry.env}_FROM_SOURCE`] === '1') return withoutCodeCache(await importFromSource(entry));
  let fresh;
  try {
    fresh = await freshBundle(entry);
  } catch (error) {
    if (process.env[`${entry.env}_DEBUG`] === '1') process.stderr.write(`${basename(entry.source, '.ts')}: no compiled build (${error instanceof Error ? error.message : error}); loading the sources\n`);
    return withoutCodeCache(await importFromSource(entry));
  }
  if (entry.format === 'cjs') return loadWithCodeCache(fresh.bundle, codeCacheFile(entry, fresh.key), process.env[`${entry.env}_DEBUG`] === '1');
  return withoutCodeCache(await import(pathToFileURL(fresh.bundle).href));
}

function withoutCodeCache(module) {
  return { main: module.main, keepCompiledCode() {} };
}

/**
 * A CommonJS bundle run with V8's code cache: the bytecode of every function compiled in an earlier
 * process, read instead of compiled again. A cold `check` compiles dozens of functions on their
 * first call, which cost a third of the check of 2,000 operations (docs/journal/checker.md,
 * task checker12). V8 makes the cache from what has run so far (`createCachedData` after the work holds
 * the lazily compiled functions too), so `keepCompiledCode`, called once the work is done, writes it
 * when none was used or when this run compiled noticeably more than the cache held (a `--help`
 * run's cache is replaced by the first check's). A stale cache is harmless: the file is named by
 * the bundle's cache key (every input's content, Node's version, esbuild's), V8 itself refuses data
 * made by another V8 or under other flags (then the code is compiled as without it and the cache
 * rewritten), and a failure to read or write it only costs the compiling. The name matters: V8
 * checks only the source's length, and runs the cached bytecode of another source of that length.
 */
export function loadWithCodeCache(bundle, cacheFile, debug = process.env.DETCD_SIM_DEBUG === '1') {
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // None yet: compiled as usual, written after the run.
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  if (debug && cachedData !== undefined && !used) process.stderr.write(`${basename(bundle)}: code cache ${cacheFile} refused by V8; compiling\n`);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return {
    main: module.exports.main,
    usedCodeCache: used,
    keepCompiledCode() {
      try {
        const data = script.createCachedData();
        // 1 %: the same work's cache differs by a few dozen bytes from one process to the next.
        if (used && data.length <= cachedData.length * 1.01) return;
        writeFileSync(`${cacheFile}.${process.pid}`, data);
        renameSync(`${cacheFile}.${process.pid}`, cacheFile);
      } catch (error) {
        if (debug) process.stderr.write(`${basename(bundle)}: code cache not written (${error instanceof Error ? error.message : error})\n`);
      }
    },
  };
}

/** The code cache's file: named by the bundle's cache key, so that a rebuilt bundle never reads another's. */
function codeCacheFile(entry, key) {
  return join(cacheDir, `${entry.codeCache}.${key.slice(0, 16)}.v8cache`);
}

async function importFromSource(entry) {
  await registerTypeScript();
  return import(pathToFileURL(entry.source).href);
}

async function cacheKey(inputs, esbuildVersion) {
  // Loaded only here: node:crypto brings some 25 internal modules (streams among them) with it,
  // which a start whose inputs are unchanged does not need.
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  hash.update(`${process.version}\0${esbuildVersion}\0${root}\0`);
  for (const input of inputs) hash.update(`${input}\0`).update(readFileSync(join(root, input))).update('\0');
  return hash.digest('hex');
}

/** Each input's size and modification time: unchanged, its content is taken as unchanged too. */
function statsOf(inputs) {
  return inputs.map((input) => {
    const { size, mtimeMs } = statSync(join(root, input));
    return [size, mtimeMs];
  });
}

/**
 * The bundle's path and cache key, rebuilt first when any of its inputs changed: an input whose size or
 * modification time differs from the build's is hashed, and only a different content rebuilds.
 */
async function freshBundle(entry) {
  try {
    const manifest = JSON.parse(readFileSync(entry.manifest, 'utf8'));
    if (manifest.node === process.version && manifest.root === root && JSON.stringify(statsOf(manifest.inputs)) === JSON.stringify(manifest.stats)) return { bundle: entry.bundle, key: manifest.key };
    if (manifest.key === (await cacheKey(manifest.inputs, manifest.esbuild))) {
      writeManifest(entry, { ...manifest, node: process.version, root, stats: statsOf(manifest.inputs) });
      return { bundle: entry.bundle, key: manifest.key };
    }
  } catch {
    // No cache yet, or an input is gone: build.
  }
  return build(entry);
}

/** Written under a name of its own and renamed: processes starting together may write at once. */
function writeManifest(entry, manifest) {
  writeFileSync(`${entry.manifest}.${process.pid}`, JSON.stringify(manifest));
  renameSync(`${entry.manifest}.${process.pid}`, entry.manifest);
}

async function build(entry) {
  const esbuild = createRequire(import.meta.url)('esbuild');
  mkdirSync(cacheDir, { recursive: true });
  // Written under a name of its own and renamed: processes starting together (sweep workers) may
  // build at once, and none may read a half-written file. The folder is a sibling of the cache's,
  // at its depth: the source map's paths are relative to where esbuild writes it.
  const temporary = join(dirname(cacheDir), `build-${process.pid}`);
  const result = await esbuild.build({
    entryPoints: [entry.source],
    bundle: true,
    platform: 'node',
    format: entry.format,
    target: 'node20',
    ...(entry.withPackages ? {} : { packages: 'external' }),
    outfile: join(temporary, basename(entry.bundle)),
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    banner: { js: '// Built by bin/compiledCli.mjs from the TypeScript sources; rebuilt when they change.' },
    plugins: [keepImportMetaUrl],
    // Lets the code know it runs compiled (bin/cli/typeScriptLoader.ts: patched copies need tsx).
    define: { DETCD_SIM_COMPILED: 'true' },
  });
  // This file is an input too: how a bundle is built is part of what it is.
  const inputs = [...Object.keys(result.metafile.inputs).filter((input) => entry.withPackages || !input.includes('node_modules/')).map((input) => relative(root, join(process.cwd(), input))), relative(root, fileURLToPath(import.meta.url))].sort();
  renameSync(join(temporary, `${basename(entry.bundle)}.map`), `${entry.bundle}.map`);
  renameSync(join(temporary, basename(entry.bundle)), entry.bundle);
  const key = await cacheKey(inputs, esbuild.version);
  writeManifest(entry, { key, esbuild: esbuild.version, inputs, node: process.version, root, stats: statsOf(inputs) });
  rmSync(temporary, { recursive: true, force: true });
  if (entry.codeCache !== undefined) removeCodeCaches(entry);
  return { bundle: entry.bundle, key };
}

/**
 * Every code cache of the entry, after a build: those of earlier builds are never read again, and
 * one of this key (a build forced by removing the manifest) may hold an older build's code.
 */
function removeCodeCaches(entry) {
  for (const name of readdirSync(cacheDir)) {
    if (name.startsWith(`${entry.codeCache}.`) && name.endsWith('.v8cache')) rmSync(join(cacheDir, name), { force: true });
  }
}

/**
 * Each module keeps its own `import.meta.url` — the repository root, the launcher a sweep spawns
 * and the mutants' copies are found from it — exactly as when it is loaded from source.
 */
const keepImportMetaUrl = {
  name: 'keep-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};
