// Loads the CLI fast: the TypeScript sources compiled into one ES module by esbuild, cached under
// node_modules/.cache/detcd-sim and rebuilt whenever a source it was built from changes (the cache
// key is a hash of every input file's content, the Node and esbuild versions and the checkout's
// path). Transpiling ~150 files through tsx's loader on every start cost 0.4-1 s (more on a busy
// machine, and again in every sweep worker); a cache hit costs a stat of each input (their
// contents are hashed only when a size or modification time changed).
//
// Plain JavaScript: it runs before any TypeScript loader. DETCD_SIM_FROM_SOURCE=1 skips the cache
// and loads the sources through tsx; DETCD_SIM_DEBUG=1 says why a build was not used.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'detcd-sim');

/**
 * The entries compiled, each into a bundle of its own: the whole CLI, and `check` alone (a user's
 * one-shot check should not load the simulator: bin/detcd-sim-check.ts).
 */
const entries = {
  'detcd-sim': { source: join(root, 'bin', 'detcd-sim.ts'), bundle: join(cacheDir, 'detcd-sim.mjs'), manifest: join(cacheDir, 'manifest.json') },
  check: { source: join(root, 'bin', 'detcd-sim-check.ts'), bundle: join(cacheDir, 'detcd-sim-check.mjs'), manifest: join(cacheDir, 'check-manifest.json') },
};

/** Registers tsx's loader: for the sources themselves, or for patched copies a command imports. */
export async function registerTypeScript() {
  const { register } = await import('tsx/esm/api');
  register();
}

/**
 * The CLI module (`name`: "detcd-sim", or "check" for that command alone): from the cache when it
 * is fresh, else built now; from the sources if building fails.
 */
export async function importCli(name = 'detcd-sim') {
  const entry = entries[name];
  if (process.env.DETCD_SIM_FROM_SOURCE === '1') return importFromSource(entry);
  let bundle;
  try {
    bundle = await freshBundle(entry);
  } catch (error) {
    if (process.env.DETCD_SIM_DEBUG === '1') process.stderr.write(`detcd-sim: no compiled build (${error instanceof Error ? error.message : error}); loading the sources\n`);
    return importFromSource(entry);
  }
  return import(pathToFileURL(bundle).href);
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
 * The bundle's path, rebuilt first when any of its inputs changed: an input whose size or
 * modification time differs from the build's is hashed, and only a different content rebuilds.
 */
async function freshBundle(entry) {
  try {
    const manifest = JSON.parse(readFileSync(entry.manifest, 'utf8'));
    if (manifest.node === process.version && manifest.root === root && JSON.stringify(statsOf(manifest.inputs)) === JSON.stringify(manifest.stats)) return entry.bundle;
    if (manifest.key === (await cacheKey(manifest.inputs, manifest.esbuild))) {
      writeManifest(entry, { ...manifest, node: process.version, root, stats: statsOf(manifest.inputs) });
      return entry.bundle;
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
  // build at once, and none may read a half-written file.
  const temporary = join(cacheDir, `build-${process.pid}`);
  const result = await esbuild.build({
    entryPoints: [entry.source],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: join(temporary, basename(entry.bundle)),
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    banner: { js: '// Built by bin/compiledCli.mjs from the TypeScript sources; rebuilt when they change.' },
    plugins: [keepImportMetaUrl],
    // Lets the code know it runs compiled (bin/cli/typeScriptLoader.ts: patched copies need tsx).
    define: { DETCD_SIM_COMPILED: 'true' },
  });
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/')).map((input) => relative(root, join(process.cwd(), input))).sort();
  renameSync(join(temporary, `${basename(entry.bundle)}.map`), `${entry.bundle}.map`);
  renameSync(join(temporary, basename(entry.bundle)), entry.bundle);
  writeManifest(entry, { key: await cacheKey(inputs, esbuild.version), esbuild: esbuild.version, inputs, node: process.version, root, stats: statsOf(inputs) });
  rmSync(temporary, { recursive: true, force: true });
  return entry.bundle;
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
