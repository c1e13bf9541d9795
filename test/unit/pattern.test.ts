import { expect } from 'chai';
import {
  matchPattern,
  parsePattern,
  parseSelector,
  type Pattern,
  type PatternEndpoint,
} from '../../src/domain/pattern.js';

/* Endpoint patterns (--from/--to, scenarios): parsing, errors and matching, written by hand. */

const web: PatternEndpoint = {
  key: 'shop/web-1',
  namespace: 'shop',
  labels: { tier: 'web', app: 'shop' },
  namespaceLabels: { team: 'a', 'kubernetes.io/metadata.name': 'shop' },
};
const db: PatternEndpoint = {
  key: 'data/db',
  namespace: 'data',
  labels: { tier: 'db' },
  namespaceLabels: { team: 'b', 'kubernetes.io/metadata.name': 'data' },
};
const backup: PatternEndpoint = { key: 'ext:backup@10.0.0.9', external: true };
const all = [web, db, backup];

function p(text: string, namespace?: string): Pattern {
  const parsed = parsePattern(text, namespace === undefined ? {} : { namespace });
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}
const matching = (text: string, namespace?: string) =>
  all.filter((e) => matchPattern(p(text, namespace), e)).map((e) => e.key);

describe('endpoint patterns (src/domain/pattern.ts)', () => {
  it('* matches every endpoint, externals included; */* every pod', () => {
    expect(matching('*')).to.deep.equal(['shop/web-1', 'data/db', 'ext:backup@10.0.0.9']);
    expect(matching('*/*')).to.deep.equal(['shop/web-1', 'data/db']);
  });

  it('names, name globs and ns/* ', () => {
    expect(matching('shop/web-1')).to.deep.equal(['shop/web-1']);
    expect(matching('shop/web')).to.deep.equal([]);
    expect(matching('shop/web-*')).to.deep.equal(['shop/web-1']);
    expect(matching('data/*')).to.deep.equal(['data/db']);
    expect(matching('*/db')).to.deep.equal(['data/db']);
  });

  it('external peers by name, with or without the IP', () => {
    expect(matching('ext:backup')).to.deep.equal(['ext:backup@10.0.0.9']);
    expect(matching('ext:backup@10.0.0.9')).to.deep.equal(['ext:backup@10.0.0.9']);
    expect(matching('ext:*')).to.deep.equal(['ext:backup@10.0.0.9']);
    expect(matching('ext:other')).to.deep.equal([]);
  });

  it('label selectors on pods and namespaces, kubectl syntax', () => {
    expect(matching('shop/[tier=web]')).to.deep.equal(['shop/web-1']);
    expect(matching('*/[tier==db]')).to.deep.equal(['data/db']);
    expect(matching('[team=a]/*')).to.deep.equal(['shop/web-1']);
    expect(matching('*/[tier!=web]')).to.deep.equal(['data/db']);
    expect(matching('*/[app!=shop]')).to.deep.equal(['data/db']); // no app label: != matches
    expect(matching('*/[tier in (web, db)]')).to.deep.equal(['shop/web-1', 'data/db']);
    expect(matching('*/[app notin (shop)]')).to.deep.equal(['data/db']);
    expect(matching('*/[app]')).to.deep.equal(['shop/web-1']);
    expect(matching('*/[!app]')).to.deep.equal(['data/db']);
    expect(matching('*/[tier in (web,db),!app]')).to.deep.equal(['data/db']);
    expect(matching('[kubernetes.io/metadata.name=data]/[]')).to.deep.equal(['data/db']);
  });

  it('a bare pod name resolves in the namespace given (-n), and is an error without one', () => {
    expect(matching('db', 'data')).to.deep.equal(['data/db']);
    expect(matching('[tier=web]', 'shop')).to.deep.equal(['shop/web-1']);
    expect(p('db', 'data').text).to.equal('data/db');
    expect(parsePattern('db')).to.equal(
      '"db": expected NS/POD (e.g. shop/web, shop/*, shop/[tier=web]), * or ext:NAME',
    );
  });

  it('reports malformed patterns and selectors', () => {
    expect(parsePattern('')).to.equal('expected NS/POD, *, or ext:NAME, got nothing');
    expect(parsePattern('shop/[tier=web')).to.equal(
      'pod "[tier=web": a selector must end with "]"',
    );
    expect(parsePattern('Shop/web')).to.match(/^namespace "Shop" is not a name/);
    expect(parseSelector('tier in web')).to.equal(
      '"tier in web" is not a selector term: expected k=v, k!=v, k in (a,b), k notin (a,b), k or !k',
    );
    expect(parseSelector('tier=we b')).to.equal('"we b" is not a valid label value');
    expect(parseSelector('a=1, b in (x,y), !c, d')).to.deep.equal([
      { key: 'a', operator: '=', values: ['1'] },
      { key: 'b', operator: 'in', values: ['x', 'y'] },
      { key: 'c', operator: '!', values: [] },
      { key: 'd', operator: 'exists', values: [] },
    ]);
  });
});
