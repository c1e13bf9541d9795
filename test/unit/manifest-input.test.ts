import { expect } from 'chai';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { loadManifests } from '../../src/manifest/load.js';

/* Input streams as kubectl reads them: stdin, empty documents, URLs, binary files, empty paths. */

const POD =
  'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c, image: i}]}\n';

/** What `helm template` prints: a `# Source:` comment per document, some documents empty. */
const HELM = [
  '---',
  '# Source: chart/templates/serviceaccount.yaml',
  '---',
  '# Source: chart/templates/pod.yaml',
  POD.trimEnd(),
  '---',
  '# Source: chart/templates/disabled.yaml',
  '---',
  'null',
  '---',
  '',
].join('\n');

async function problems(paths: string[], stdin?: string): Promise<string[]> {
  try {
    await loadManifests(
      paths,
      stdin === undefined ? {} : { stdin: () => Promise.resolve(Buffer.from(stdin)) },
    );
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.issues.map(formatIssue);
  }
}

describe('manifest input', () => {
  it('skips empty documents anywhere, as kubectl does (helm template output)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-'));
    await writeFile(join(dir, 'release.yaml'), HELM);
    const { world } = await loadManifests([dir]);
    expect(world.pods.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal(['x/a']);
  });

  it('reads standard input for -f -, named <stdin> in messages', async () => {
    const { world } = await loadManifests(['-'], {
      stdin: () => Promise.resolve(Buffer.from(HELM)),
    });
    expect(world.pods.map((p) => p.name)).to.deep.equal(['a']);
    expect(
      await problems(['-'], 'kind: Pod\nmetadata: {name: b}\nspec: {hostNetwork: 1}\n'),
    ).to.deep.equal([
      '<stdin>:3:8: Pod default/b: spec.hostNetwork: expected true or false, got the number 1',
    ]);
  });

  it('refuses URLs with a clear message and reads nothing from the network', async () => {
    expect(await problems(['https://example.com/app.yaml'])).to.deep.equal([
      'https://example.com/app.yaml:1:1: is a URL: polygraph reads local files only and makes no network requests; download it and give the file, or pipe it (curl -fsSL URL | polygraph model -f -)',
    ]);
  });

  it('reports a binary file as such, without its bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-'));
    const png = join(dir, 'logo.yaml');
    await writeFile(
      png,
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    );
    const bin = join(dir, 'blob.json');
    await writeFile(bin, Buffer.from([0x6b, 0x69, 0xff, 0xfe, 0x00, 0x01]));
    expect(await problems([png, bin])).to.deep.equal([
      `${png}:1:1: not a text file: it looks like a PNG image; expected Kubernetes manifests in YAML or JSON`,
      `${bin}:1:1: not a text file (binary content); expected Kubernetes manifests in YAML or JSON`,
    ]);
  });

  it('a path without manifests is an error: empty directory, no manifest files, only empty documents', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polygraph-'));
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'README.md'), '# not a manifest\n');
    const comments = join(dir, 'comments.yaml');
    await writeFile(comments, '# Source: x\n---\n---\n');
    expect(await problems([empty, other, comments])).to.deep.equal([
      `${empty}:1:1: no manifests found in ${empty} (no .yaml, .yml or .json file in it)`,
      `${other}:1:1: no manifests found in ${other} (no .yaml, .yml or .json file in it)`,
      `${comments}:1:1: no manifests found in ${comments} (only empty documents or comments)`,
    ]);
    expect(await problems(['-'], '')).to.deep.equal([
      '<stdin>:1:1: no manifests found in standard input (only empty documents or comments)',
    ]);
    // One good path does not excuse an empty one.
    const good = join(dir, 'pod.yaml');
    await writeFile(good, POD);
    expect(await problems([good, empty])).to.have.length(1);
    expect(await problems([good])).to.deep.equal([]);
  });
});
