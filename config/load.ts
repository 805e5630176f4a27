import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { StreamConfig } from '../pipeline/streams/definition.js';
import { formatZodIssues } from '../pipeline/zod-issues.js';
import { assetsDir, repoRoot } from './paths.js';
import { configObjectSchema, configSchema, type PosestreamConfig } from './schema.js';

export const DEFAULT_CONFIG_PATH = path.join(repoRoot, 'config', 'posestream.yaml');

/** Every problem found in a config, each naming the file, the field and what is wrong. */
export class ConfigError extends Error {
  readonly code = 'PS_CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: PosestreamConfig;
  file: string;
}

/** `${VAR}` and `${VAR:-default}` inside string values; POSESTREAM_ASSETS always resolves (see ./paths.ts). */
function substituteEnv(value: string, env: NodeJS.ProcessEnv, missing: Set<string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback?: string) => {
    const fromEnv = name === 'POSESTREAM_ASSETS' ? (env[name] ?? assetsDir(env)) : env[name];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (fallback !== undefined) return fallback;
    missing.add(name);
    return '';
  });
}

function substituteDeep(node: unknown, env: NodeJS.ProcessEnv, missing: Set<string>): unknown {
  if (typeof node === 'string') return substituteEnv(node, env, missing);
  if (Array.isArray(node)) return node.map((item) => substituteDeep(item, env, missing));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substituteDeep(v, env, missing)]));
  }
  return node;
}

const camelToEnv = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * Deployment overrides: POSESTREAM_<SECTION>_<KEY>, e.g. POSESTREAM_REDIS_URL, POSESTREAM_WORKER_BATCH_SIZE,
 * POSESTREAM_GATEWAY_PORT. Values are read as YAML scalars so numbers and booleans keep their type; text settings
 * take the value verbatim, so a token such as `12345678` or `#a&b` stays the text it is; a list is a YAML flow
 * sequence or comma-separated (POSESTREAM_REDIS_CLUSTER=redis://a:7000,redis://b:7000).
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const sections = ['redis', 'model', 'worker', 'ingest', 'results', 'gateway', 'sourcePolicy', 'shutdown'] as const;
  const shapes = configObjectSchema.shape;
  const result: Record<string, unknown> = { ...raw };
  for (const section of sections) {
    const sectionSchema = shapes[section];
    const inner = 'unwrap' in sectionSchema ? (sectionSchema as { unwrap(): unknown }).unwrap() : sectionSchema;
    const fields = (inner as { shape: Record<string, FieldSchema> }).shape;
    for (const [key, field] of Object.entries(fields)) {
      const envName = `POSESTREAM_${camelToEnv(section)}_${camelToEnv(key)}`;
      const value = env[envName];
      if (value === undefined) continue;
      const current = { ...((result[section] ?? {}) as Record<string, unknown>) };
      // One of a pair of alternatives set from the environment replaces the other one from the file.
      const rival = ALTERNATIVES[`${section}.${key}`];
      if (rival) delete current[rival];
      result[section] = { ...current, [key]: parseEnvValue(field, value) };
    }
  }
  return result;
}

/** Settings of which a config gives one: the environment may switch a deployment from one to the other. */
const ALTERNATIVES: Record<string, string> = { 'redis.url': 'cluster', 'redis.cluster': 'url' };

function parseEnvValue(field: FieldSchema, value: string): unknown {
  if (isTextField(field)) return value;
  // A list: a YAML flow sequence ([a, b]) or plain comma-separated text (redis://a:7000,redis://b:7000).
  if (unwrapped(field).def.type === 'array' && !value.trim().startsWith('[')) {
    return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  }
  return parseDocument(value).toJS();
}

interface FieldSchema {
  def: { type: string; innerType?: FieldSchema };
}

/** The schema under optional / default wrappers. */
function unwrapped(field: FieldSchema): FieldSchema {
  let schema = field;
  while ((schema.def.type === 'optional' || schema.def.type === 'default') && schema.def.innerType) schema = schema.def.innerType;
  return schema;
}

/** A string setting, possibly optional or defaulted. */
function isTextField(field: FieldSchema): boolean {
  return unwrapped(field).def.type === 'string';
}

function isFileUrlOrPath(url: string): boolean {
  return !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url) || url.startsWith('file:');
}

/** Relative file paths in the config are relative to the config file, as users expect. */
function resolvePaths(config: PosestreamConfig, baseDir: string): PosestreamConfig {
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  return {
    ...config,
    model: { ...config.model, path: resolve(config.model.path), cacheDir: resolve(config.model.cacheDir) },
    streams: config.streams.map((s) => resolveStreamPaths(s, baseDir)),
  };
}

export function resolveStreamPaths(stream: StreamConfig, baseDir: string): StreamConfig {
  if (!isFileUrlOrPath(stream.url) || stream.url.startsWith('file:')) return stream;
  if (stream.url.startsWith('/dev/')) return stream;
  return { ...stream, url: path.isAbsolute(stream.url) ? stream.url : path.resolve(baseDir, stream.url) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** Parses YAML text as a config; `file` is only used for messages and relative paths. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): PosestreamConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`));
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw) || raw === null) {
    throw new ConfigError(file, ['(root): must be a mapping with redis, model, worker, ingest, gateway, streams']);
  }
  const missing = new Set<string>();
  const substituted = substituteDeep(applyEnvOverrides(raw as Record<string, unknown>, env), env, missing);
  if (missing.size > 0) {
    throw new ConfigError(file, [...missing].map((name) => `environment variable ${name} is referenced but not set`));
  }
  const parsed = configSchema.safeParse(substituted);
  if (!parsed.success) throw new ConfigError(file, formatZodIssues(parsed.error));
  return deepFreeze(resolvePaths(parsed.data, path.dirname(path.resolve(file))));
}

/** Loads the config file (default config/posestream.yaml, or POSESTREAM_CONFIG). */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const resolved = path.resolve(file ?? env.POSESTREAM_CONFIG ?? DEFAULT_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new ConfigError(resolved, [`cannot read config: ${reason}`]);
  }
  return { config: parseConfig(text, resolved, env), file: resolved };
}
