/**
 * The fast path of config parsing (issue 10): js-yaml reads a 10,000-member config about ten
 * times faster than the `yaml` library's document API, which load.ts needs for its error
 * messages (lines, columns, duplicate keys, alias limits). So a config is read here first, and
 * whenever this path is unsure it answers undefined and load.ts parses with `yaml` as before:
 *
 * - any js-yaml error (syntax, duplicate key, unknown tag): the slow path reports it;
 * - anchors and aliases: js-yaml shares the aliased object, so a value reached twice means an
 *   alias, and alias limits are the slow path's job;
 * - scalars whose meaning differs between js-yaml's core schema and `yaml`'s YAML 1.2 core
 *   schema (digit separators `1_000`, binary `0b101`, sexagesimal `1:30`, explicit tags, negative zero): the
 *   text is not given to the fast path at all.
 *
 * test/config/fast-yaml.test.ts checks the two paths agree on tricky scalars and on the example.
 */
import { CORE_SCHEMA, load } from "js-yaml";

/** Text the fast path would read differently from `yaml` (or might): left to the slow path. */
const UNSURE = /\d_\d|\b0b[01]|(^|[\s:[,{-])!|\d:\d+\s*$|<<|(^|[\s:[,{])-\.?0+(\.0*)?\s*($|[,\]}#])/m;

export function fastParseYaml(text: string): { value: unknown } | undefined {
  if (UNSURE.test(text)) return undefined;
  let value: unknown;
  try {
    value = load(text, { schema: CORE_SCHEMA, json: false });
  } catch {
    return undefined;
  }
  return isTree(value) ? { value } : undefined;
}

/** No object or array is reached twice (js-yaml resolves an alias to the same object). */
function isTree(root: unknown): boolean {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object") continue;
    if (seen.has(v)) return false;
    seen.add(v);
    if (Array.isArray(v)) stack.push(...v);
    else if (Object.getPrototypeOf(v) !== Object.prototype) return false;
    else stack.push(...Object.values(v));
  }
  return true;
}
