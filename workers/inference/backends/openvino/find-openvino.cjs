'use strict';
// Finds the OpenVINO Python wheel's package directory (the one holding `include/` and `libs/`).
// Used by binding.gyp at build time (`node find-openvino.cjs include`) and by index.ts at run time, so the
// headers the addon is compiled against and the library it loads always come from the same place.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync } = require('node:fs');
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');

function findOpenVinoDir(env = process.env) {
  if (env.OPENVINO_DIR) {
    const dir = path.resolve(env.OPENVINO_DIR);
    if (!existsSync(path.join(dir, 'include', 'openvino', 'c', 'openvino.h'))) {
      throw new Error(`OPENVINO_DIR=${dir} is not the openvino wheel package dir (no include/openvino/c/openvino.h)`);
    }
    return dir;
  }
  const python = path.join(repoRoot, '.venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error(`cannot locate OpenVINO: set OPENVINO_DIR to the openvino wheel package dir, or create ${python} with openvino installed`);
  }
  try {
    return execFileSync(python, ['-c', 'import openvino,os;print(os.path.dirname(openvino.__file__))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (error) {
    throw new Error(`cannot locate OpenVINO: ${python} could not import openvino (${error.stderr || error.message}); set OPENVINO_DIR`);
  }
}

// The wheel has no unversioned libopenvino_c.so (wheels cannot hold symlinks), hence the glob.
function findOpenVinoCLibrary(openvinoDir) {
  const libsDir = path.join(openvinoDir, 'libs');
  const candidates = existsSync(libsDir) ? readdirSync(libsDir).filter((name) => /^libopenvino_c\.so\.\d+$/.test(name)) : [];
  if (candidates.length !== 1) {
    throw new Error(`expected exactly one libopenvino_c.so.<N> in ${libsDir}, found ${candidates.length ? candidates.join(', ') : 'none'}`);
  }
  return path.join(libsDir, candidates[0]);
}

module.exports = { findOpenVinoDir, findOpenVinoCLibrary };

if (require.main === module) {
  const dir = findOpenVinoDir();
  const what = process.argv[2] || 'dir';
  if (what === 'include') process.stdout.write(path.join(dir, 'include'));
  else if (what === 'lib') process.stdout.write(findOpenVinoCLibrary(dir));
  else process.stdout.write(dir);
}
