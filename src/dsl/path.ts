/** A field path inside a scenario document: map keys and list indices. */
export type Path = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_$][-A-Za-z0-9_$]*$/;

/** `['steps', 1, 'actions', 0, 'label', 'pod']` → `steps[1].actions[0].label.pod`. Keys that are
 * not plain words are quoted: `labels["app.kubernetes.io/name"]`, `tables["80/TCP"]`. */
export function formatPath(path: Path): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else if (PLAIN_KEY.test(part)) text += text === '' ? part : `.${part}`;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text;
}

/** The value at `path`, or undefined. */
export function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}
