/**
 * Option parsing shared by the kernel-facing commands (prog, map, link, run, attach, detach):
 * `--name value`, `--name=value`, boolean `--flag`, `-h/--help`, and positionals. Unknown
 * options and missing values are ArgumentErrors (exit code 2 through main).
 */
import { ArgumentError } from '../errors.js';

export interface OptSpec {
  /** Options that take a value (without the leading dashes). */
  values?: readonly string[];
  /** Boolean options (without the leading dashes). */
  flags?: readonly string[];
}

export interface ParsedOpts {
  positional: string[];
  values: Map<string, string>;
  flags: Set<string>;
  help: boolean;
}

export function parseOpts(cmd: string, args: readonly string[], spec: OptSpec): ParsedOpts {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  const out: ParsedOpts = { positional: [], values: new Map(), flags: new Set(), help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') {
      out.help = true;
      continue;
    }
    if (a === '--') {
      out.positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (values.has(name)) {
        let v: string | undefined;
        if (eq > 0) v = a.slice(eq + 1);
        else {
          v = args[i + 1];
          i++;
        }
        if (v === undefined) throw new ArgumentError(`${cmd}: option --${name} needs a value`);
        out.values.set(name, v);
        continue;
      }
      if (flags.has(name) && eq < 0) {
        out.flags.add(name);
        continue;
      }
      throw new ArgumentError(`${cmd}: unknown option ${a}`);
    }
    out.positional.push(a);
  }
  return out;
}

/** Bytes from hex text: whitespace, `0x` prefix and `:`/`-` separators allowed. */
export function parseHex(cmd: string, what: string, text: string): Uint8Array {
  let t = text.trim();
  if (t.startsWith('0x') || t.startsWith('0X')) t = t.slice(2);
  t = t.replace(/[\s:-]/g, '');
  if (t.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(t)) throw new ArgumentError(`${cmd}: ${what} must be hex bytes, got ${JSON.stringify(text)}`);
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A non-negative integer option value. */
export function parseCount(cmd: string, name: string, text: string, min = 0): number {
  if (!/^\d+$/.test(text)) throw new ArgumentError(`${cmd}: --${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new ArgumentError(`${cmd}: --${name} must be an integer >= ${min}, got ${text}`);
  return n;
}
