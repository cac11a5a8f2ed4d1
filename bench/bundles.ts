/**
 * Bundle size and cold load of every bundled function (the rotators and the overdue check): what each cold start pays
 * before the first step runs.
 *
 *   npx ts-node --transpile-only --project bench/tsconfig.json bench/bundles.ts [runs]
 *
 * For each bundle in assets/: raw and gzip bytes, and the time a fresh Node process takes to require it (the AWS SDK
 * resolvable from node_modules, as the Lambda runtime resolves it from its own), minus the same for an empty module.
 * Medians over `runs` fresh processes (default 31), measured inside the process around `require`, so Node's own
 * start-up is not counted. Every function requires the Secrets Manager client at init (every step of every path
 * calls Secrets Manager), so a module that requires only that client is measured too: the bundle's load over it is
 * the part the handler code itself adds. Results go to stdout and bench/results/bundles.json.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { FUNCTION_IDS, MONITORING_FUNCTION_IDS } from '../src/private/contract';

const ROOT = path.join(__dirname, '..');
const ASSETS = path.join(ROOT, 'assets');
const RUNS = Number(process.argv[2] ?? 31);
/** Targets for the PostgreSQL single-user function. */
const TARGET = { id: FUNCTION_IDS.POSTGRES_SINGLE_USER, maxRawBytes: 150_000, maxLoadOverEmptyMs: 50 };

interface Result {
  readonly id: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  readonly loadMedianMs: number;
  readonly loadOverEmptyMs: number;
  /** Load over a module that requires only the Secrets Manager client: what the handler code adds. */
  readonly loadOverSdkClientMs: number;
}

/** Milliseconds one fresh process spends in `require(file)`. */
function loadOnce(file: string): number {
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); `
    + 'process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));';
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    encoding: 'utf8',
  });
  return Number(out);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Interleaves the files run by run, so a change in machine load affects all of them alike. */
function medianLoads(files: string[]): number[] {
  const samples = files.map((): number[] => []);
  for (let run = 0; run < RUNS; run++) files.forEach((file, i) => samples[i].push(loadOnce(file)));
  return samples.map(median);
}

function main(): void {
  const ids: string[] = [...Object.values(FUNCTION_IDS), ...Object.values(MONITORING_FUNCTION_IDS)];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bundles-'));
  try {
    const empty = path.join(dir, 'empty.js');
    fs.writeFileSync(empty, '');
    const sdkClient = path.join(dir, 'sdk-client.js');
    fs.writeFileSync(sdkClient, 'require(\'@aws-sdk/client-secrets-manager\');\n');
    const bundles = ids.map((id) => path.join(ASSETS, id, 'index.js'));
    for (const file of bundles) if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npx projen bundle\` first`);
    const [emptyMs, sdkClientMs, ...loads] = medianLoads([empty, sdkClient, ...bundles]);
    const results: Result[] = ids.map((id, i) => {
      const code = fs.readFileSync(bundles[i]);
      return {
        id,
        rawBytes: code.length,
        gzipBytes: gzipSync(code).length,
        loadMedianMs: loads[i],
        loadOverEmptyMs: loads[i] - emptyMs,
        loadOverSdkClientMs: loads[i] - sdkClientMs,
      };
    });
    report(results, emptyMs, sdkClientMs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(results: Result[], emptyMs: number, sdkClientMs: number): void {
  const machine = { node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadAverage: os.loadavg()[0] };
  console.log(`${RUNS} fresh processes per module; empty module ${emptyMs.toFixed(2)} ms; the Secrets Manager client alone `
    + `${sdkClientMs.toFixed(1)} ms (${(sdkClientMs - emptyMs).toFixed(1)} over empty); ${JSON.stringify(machine)}`);
  console.log('| function | raw bytes | gzip bytes | require, median ms | over an empty module, ms | over the SDK client alone, ms |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.id} | ${r.rawBytes} | ${r.gzipBytes} | ${r.loadMedianMs.toFixed(1)} | ${r.loadOverEmptyMs.toFixed(1)} | ${r.loadOverSdkClientMs.toFixed(1)} |`);
  }
  const target = results.find((r) => r.id === TARGET.id)!;
  console.log(`target ${TARGET.id}: raw ${target.rawBytes} <= ${TARGET.maxRawBytes}: ${target.rawBytes <= TARGET.maxRawBytes ? 'met' : 'MISSED'}; `
    + `load over empty ${target.loadOverEmptyMs.toFixed(1)} <= ${TARGET.maxLoadOverEmptyMs} ms: ${target.loadOverEmptyMs <= TARGET.maxLoadOverEmptyMs ? 'met' : 'MISSED'}`);
  const out = path.join(__dirname, 'results', 'bundles.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs: RUNS, machine, emptyMs, sdkClientMs, results }, null, 2) + '\n');
}

main();
