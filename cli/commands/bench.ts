import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';

/**
 * `posestream bench <name>`: each benchmark lives in its own `cli/commands/bench-<name>.ts` that exports
 * `registerBench(bench: Command): void` and adds one subcommand to the group. Files are found here by name, so
 * adding a benchmark never edits this file. Their top level must stay light (commander types only): heavy
 * modules (addon, GStreamer, Redis) are imported inside the action, because every CLI start loads these files.
 */
export interface BenchModule {
  registerBench(bench: Command): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCH_FILE = /^bench-[a-z0-9-]+\.(ts|js)$/;

async function loadBenchModules(): Promise<Array<[file: string, module: BenchModule]>> {
  const files = readdirSync(here).filter((name) => BENCH_FILE.test(name) && !name.endsWith('.d.ts')).sort();
  return Promise.all(
    files.map(async (file) => {
      const module = (await import(pathToFileURL(path.join(here, file)).href)) as Partial<BenchModule>;
      if (typeof module.registerBench !== 'function') {
        throw new Error(`${path.join('cli/commands', file)} must export registerBench(bench: Command)`);
      }
      return [file, module as BenchModule] as [string, BenchModule];
    }),
  );
}

const benchModules = await loadBenchModules();

export function registerBenchCommand(program: Command): void {
  const bench = program
    .command('bench')
    .description('Benchmarks that print ratios against a baseline measured in the same run (run one at a time)');
  for (const [, module] of benchModules) module.registerBench(bench);
}
