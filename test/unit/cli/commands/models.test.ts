import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { modelsPython, registerModelsCommand, runModelsToolchain } from '../../../../cli/commands/models.js';

/** A stand-in interpreter: records its argv and exits with a chosen code, so passthrough is observable. */
function fakePython(exitCode: number): { python: string; argsFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'posestream-models-'));
  const argsFile = path.join(dir, 'args.txt');
  const python = path.join(dir, 'python');
  writeFileSync(python, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\nexit ${exitCode}\n`);
  chmodSync(python, 0o755);
  return { python, argsFile };
}

describe('posestream models', () => {
  const savedPython = process.env.POSESTREAM_PYTHON;
  const savedExitCode = process.exitCode;
  afterEach(() => {
    if (savedPython === undefined) delete process.env.POSESTREAM_PYTHON;
    else process.env.POSESTREAM_PYTHON = savedPython;
    process.exitCode = savedExitCode;
  });

  it('uses the repo venv unless POSESTREAM_PYTHON overrides it', () => {
    expect(modelsPython({})).toMatch(/\.venv\/bin\/python$/);
    expect(modelsPython({ POSESTREAM_PYTHON: '/opt/py/bin/python3' })).toBe('/opt/py/bin/python3');
  });

  it('passes every argument through in order and propagates the exit code', async () => {
    const { python, argsFile } = fakePython(3);
    process.env.POSESTREAM_PYTHON = python;
    const program = new Command('posestream').exitOverride();
    registerModelsCommand(program);
    await program.parseAsync(['node', 'posestream', 'models', 'predict', 'a.jpg', '--model', 'm.xml', 'b.jpg', '--json', '--help']);
    expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual([
      '-m', 'posestream_models', 'predict', 'a.jpg', '--model', 'm.xml', 'b.jpg', '--json', '--help',
    ]);
    expect(process.exitCode).toBe(3);
  });

  it('rejects with a clear error when the interpreter is missing', async () => {
    await expect(runModelsToolchain(['eval'], '/nonexistent/python')).rejects.toThrow(/cannot start \/nonexistent\/python/);
  });
});
