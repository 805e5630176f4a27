import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis, type ChainableCommander } from 'ioredis';
import type { RedisClient } from './client.js';

/**
 * The Lua scripts of ./scripts, loaded one way. A file is named `<name>-<numberOfKeys>.lua` (BullMQ's convention),
 * so a script's key count is stated once, beside its code. Scripts are registered on a connection through ioredis'
 * defineCommand, which sends EVALSHA and falls back to EVAL only when the server does not know the script yet, so a
 * call never ships the script text again. Every script touches keys of one hash tag only (see keys.ts).
 */
export const SCRIPT_NAMES = ['publish-frame', 'report-state', 'renew-lease', 'release-lease', 'take-newest'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

interface Script {
  lua: string;
  numberOfKeys: number;
  /** The method name defineCommand adds to a connection and to the pipelines made from it afterwards. */
  command: string;
  /** Its file name, which error messages name instead of the SHA1 Redis reports. */
  file: string;
  sha1: string;
}

const SCRIPT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scripts');
const SCRIPT_FILE = /^([a-z][a-z0-9-]*)-(\d+)\.lua$/;

function loadScriptFiles(): ReadonlyMap<string, Script> {
  const scripts = new Map<string, Script>();
  for (const file of readdirSync(SCRIPT_DIR).sort()) {
    const match = SCRIPT_FILE.exec(file);
    if (!match) throw new Error(`${path.join(SCRIPT_DIR, file)}: script files are named <name>-<numberOfKeys>.lua`);
    const [, name, numberOfKeys] = match;
    const lua = readFileSync(path.join(SCRIPT_DIR, file), 'utf8');
    const sha1 = createHash('sha1').update(lua).digest('hex');
    scripts.set(name!, { lua, numberOfKeys: Number(numberOfKeys), command: `posestream:${name}`, file, sha1 });
  }
  const expected = [...SCRIPT_NAMES].sort().join(', ');
  if ([...scripts.keys()].join(', ') !== expected) {
    throw new Error(`${SCRIPT_DIR} holds scripts ${[...scripts.keys()].join(', ')}; expected exactly ${expected}`);
  }
  return scripts;
}

const scripts = loadScriptFiles();

/** Registers every script on this connection (idempotent). Pipelines and MULTIs created afterwards can run them. */
export function defineScripts<T extends RedisClient>(redis: T): T {
  for (const script of scripts.values()) {
    if (!(script.command in redis)) redis.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
  return redis;
}

/**
 * Redis names a failing script by its SHA1 ("OOM command not allowed ... script: 3f2a...", "NOSCRIPT"); an operator
 * cannot act on that. Returns the error with every script SHA1 in its message replaced by the script's file name
 * (the same object, so codes, causes and classes stay; a message without a hash is left alone). A hash that is not
 * one of ours (e.g. BullMQ's) becomes `others` ("a BullMQ script").
 */
export function nameScriptsIn<T>(error: T, others = 'a script of another library'): T {
  if (!(error instanceof Error)) return error;
  let message = error.message;
  for (const script of scripts.values()) message = message.replaceAll(script.sha1, script.file);
  message = message.replace(/\b[0-9a-f]{40}\b/g, others);
  if (/NOSCRIPT/.test(message) && !/\.lua/.test(message)) message += ' (a posestream script was not loaded: it is re-sent on the next call)';
  if (message !== error.message) error.message = message;
  return error;
}

/**
 * Runs a script now (on a connection) or queues it (on a pipeline or MULTI made after defineScripts). `buffers`:
 * bulk replies come back as Buffers (defineCommand's `<command>Buffer` variant), for binary fields such as pixels.
 */
export function runScript(target: RedisClient, name: ScriptName, keys: string[], args: Array<string | number | Buffer>, options?: { buffers?: boolean }): Promise<unknown>;
export function runScript(target: ChainableCommander, name: ScriptName, keys: string[], args: Array<string | number | Buffer>, options?: { buffers?: boolean }): ChainableCommander;
export function runScript(target: RedisClient | ChainableCommander, name: ScriptName, keys: string[], args: Array<string | number | Buffer>, options: { buffers?: boolean } = {}): unknown {
  const script = scripts.get(name)!;
  if (keys.length !== script.numberOfKeys) throw new Error(`script ${name} takes ${script.numberOfKeys} key(s), got ${keys.length}`);
  if (target instanceof Redis || target instanceof Cluster) defineScripts(target);
  const command = options.buffers ? `${script.command}Buffer` : script.command;
  const method = (target as unknown as Record<string, unknown>)[command];
  if (typeof method !== 'function') throw new Error(`script ${name} is not defined here: call defineScripts(redis) before creating the pipeline`);
  const result = (method as (...values: unknown[]) => unknown).call(target, ...keys, ...args);
  // On a connection: a failure names the script file, not its hash. In a pipeline the caller's exec() reports it.
  return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(nameScriptsIn(error))) : result;
}
