/**
 * Container images without Docker: a root filesystem from host binaries (plus the shared libraries
 * `ldd` names), packed as a docker-archive tar (manifest.json, config JSON, one uncompressed layer)
 * that `ctr images import` accepts. Definitions: probes/lab-image.json.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { DATA_DIR, REPO } from './config.js';
import { output, run } from './util.js';

export type ImageRole = 'pause' | 'probe';

interface ImageDefinition {
  role: ImageRole;
  name: string;
  tag: string;
  files: { from: string; to: string }[];
  entrypoint: string[];
  cmd: string[];
}

export interface BuiltImage {
  ref: string;
  tar: string;
}

function definitions(): ImageDefinition[] {
  const text = readFileSync(join(REPO, 'probes', 'lab-image.json'), 'utf8');
  return (JSON.parse(text) as { images: ImageDefinition[] }).images;
}

async function sharedLibraries(binary: string): Promise<string[]> {
  const text = await output('ldd', [binary]);
  const libs: string[] = [];
  for (const line of text.split('\n')) {
    const match = /(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1] !== undefined) libs.push(match[1]);
  }
  return libs;
}

function copyInto(rootfs: string, from: string, to: string): void {
  const target = join(rootfs, to);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(from), target);
  chmodSync(target, 0o755);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function buildImage(
  def: ImageDefinition,
  tag: string,
  agnhost: string,
  workDir: string,
): Promise<BuiltImage> {
  const ref = `${def.name}:${tag}`;
  const dir = join(workDir, def.name.replace(/[^\w.-]/g, '_'));
  rmSync(dir, { recursive: true, force: true });
  const rootfs = join(dir, 'rootfs');
  const archive = join(dir, 'archive');
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(archive, { recursive: true });
  for (const d of ['tmp', 'etc', 'proc', 'sys', 'dev'])
    mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
  );
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  for (const file of def.files) {
    const from =
      file.from === '@agnhost'
        ? agnhost
        : isAbsolute(file.from)
          ? file.from
          : join(REPO, file.from);
    copyInto(rootfs, from, file.to);
    for (const lib of await sharedLibraries(from)) copyInto(rootfs, lib, lib);
  }
  const layerDir = join(archive, 'layer');
  mkdirSync(layerDir);
  const layer = join(layerDir, 'layer.tar');
  await run('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    rootfs,
    '-cf',
    layer,
    '.',
  ]);
  const diffId = await sha256File(layer);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: def.entrypoint,
      Cmd: def.cmd,
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      WorkingDir: '/',
      Labels: { 'org.opencontainers.image.description': 'polygraph lab image, built locally' },
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
  });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  writeFileSync(join(archive, configName), config);
  writeFileSync(
    join(archive, 'manifest.json'),
    JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: ['layer/layer.tar'] }]),
  );
  const tar = join(dir, 'image.tar');
  await run('tar', ['-C', archive, '-cf', tar, '.']);
  rmSync(rootfs, { recursive: true, force: true });
  return { ref, tar };
}

/** Build the pause and probe images; returns their references and tar files. */
export async function buildImages(agnhost: string, agnhostVersion: string): Promise<BuiltImage[]> {
  const workDir = join(DATA_DIR, 'images');
  mkdirSync(workDir, { recursive: true });
  return Promise.all(
    definitions().map((def) =>
      buildImage(def, def.tag.replace('{agnhost-version}', agnhostVersion), agnhost, workDir),
    ),
  );
}

/** The reference of the image with this role: `name:tag` from probes/lab-image.json. */
export function imageRef(role: ImageRole, agnhostVersion: string): string {
  const def = definitions().find((d) => d.role === role);
  if (def === undefined) throw new Error(`probes/lab-image.json defines no ${role} image`);
  return `${def.name}:${def.tag.replace('{agnhost-version}', agnhostVersion)}`;
}
