import { expect } from 'chai';
import { InternalError } from '../../src/domain/errors.js';
import { formatSelector, matchesSelector, selectorMismatches } from '../../src/model/selector.js';
import type { LabelSelector, LabelSelectorRequirement } from '../../src/model/types.js';

/*
 * metav1.LabelSelector: matching, the per-term reasons a selector does not match (what `explain`
 * prints), and kubectl's rendering (labels.Selector.String(): `k=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, joined by commas). Expected values are written from the API's
 * documentation, not produced by the code under test.
 */

const sel = (
  matchLabels: Record<string, string>,
  ...matchExpressions: LabelSelectorRequirement[]
): LabelSelector => ({ matchLabels, matchExpressions });
const expr = (
  key: string,
  operator: LabelSelectorRequirement['operator'],
  ...values: string[]
): LabelSelectorRequirement => ({ key, operator, values });

describe('label selectors', () => {
  it('an empty selector matches every label set and renders as {}', () => {
    expect(matchesSelector(sel({}), {})).to.equal(true);
    expect(matchesSelector(sel({}), { a: '1' })).to.equal(true);
    expect(selectorMismatches(sel({}), { a: '1' })).to.deep.equal([]);
    expect(formatSelector(sel({}))).to.equal('{}');
  });

  it('matchLabels: every pair must be present with the same value', () => {
    const s = sel({ app: 'web', tier: 'front' });
    expect(matchesSelector(s, { app: 'web', tier: 'front', extra: 'x' })).to.equal(true);
    expect(matchesSelector(s, { app: 'web' })).to.equal(false);
    expect(matchesSelector(s, { app: 'web', tier: 'back' })).to.equal(false);
    // A label whose value is the empty string is present; a missing one is not.
    expect(matchesSelector(sel({ app: '' }), { app: '' })).to.equal(true);
    expect(matchesSelector(sel({ app: '' }), {})).to.equal(false);
    expect(selectorMismatches(s, { app: 'web', tier: 'front' })).to.deep.equal([]);
    expect(selectorMismatches(s, { tier: 'back' })).to.deep.equal([
      'has no label app',
      'tier=back, not front',
    ]);
    expect(selectorMismatches(sel({ app: 'web' }), { app: '' })).to.deep.equal(['app=, not web']);
    expect(formatSelector(s)).to.equal('app=web,tier=front');
  });

  it('In: the key must be present with one of the values', () => {
    const s = sel({}, expr('env', 'In', 'prod', 'staging'));
    expect(matchesSelector(s, { env: 'prod' })).to.equal(true);
    expect(matchesSelector(s, { env: 'dev' })).to.equal(false);
    expect(matchesSelector(s, {})).to.equal(false);
    expect(matchesSelector(sel({}, expr('env', 'In', '')), {})).to.equal(false);
    expect(matchesSelector(sel({}, expr('env', 'In', '')), { env: '' })).to.equal(true);
    expect(selectorMismatches(s, { env: 'prod' })).to.deep.equal([]);
    expect(selectorMismatches(s, {})).to.deep.equal(['has no label env (env In [prod, staging])']);
    expect(selectorMismatches(s, { env: 'dev' })).to.deep.equal([
      'env=dev is not in [prod, staging]',
    ]);
    expect(formatSelector(s)).to.equal('env in (prod,staging)');
  });

  it('NotIn: a missing key matches; a present key must have none of the values', () => {
    const s = sel({}, expr('env', 'NotIn', 'prod', 'staging'));
    expect(matchesSelector(s, {})).to.equal(true);
    expect(matchesSelector(s, { env: 'dev' })).to.equal(true);
    expect(matchesSelector(s, { env: 'staging' })).to.equal(false);
    expect(matchesSelector(sel({}, expr('env', 'NotIn', '')), {})).to.equal(true);
    expect(matchesSelector(sel({}, expr('env', 'NotIn', '')), { env: '' })).to.equal(false);
    expect(selectorMismatches(s, {})).to.deep.equal([]);
    expect(selectorMismatches(s, { env: 'dev' })).to.deep.equal([]);
    expect(selectorMismatches(s, { env: 'staging' })).to.deep.equal([
      'env=staging is in [prod, staging] (NotIn)',
    ]);
    expect(formatSelector(s)).to.equal('env notin (prod,staging)');
  });

  it('Exists and DoesNotExist look at the key only', () => {
    const exists = sel({}, expr('legacy', 'Exists'));
    const absent = sel({}, expr('legacy', 'DoesNotExist'));
    expect(matchesSelector(exists, { legacy: '' })).to.equal(true);
    expect(matchesSelector(exists, {})).to.equal(false);
    expect(matchesSelector(absent, {})).to.equal(true);
    expect(matchesSelector(absent, { legacy: 'no' })).to.equal(false);
    expect(selectorMismatches(exists, { legacy: '' })).to.deep.equal([]);
    expect(selectorMismatches(exists, {})).to.deep.equal(['has no label legacy (Exists)']);
    expect(selectorMismatches(absent, {})).to.deep.equal([]);
    expect(selectorMismatches(absent, { legacy: 'no' })).to.deep.equal([
      'has label legacy (DoesNotExist)',
    ]);
    expect(formatSelector(exists)).to.equal('legacy');
    expect(formatSelector(absent)).to.equal('!legacy');
  });

  it('every term must hold; the reasons list each failing term in order', () => {
    const s = sel(
      { app: 'web' },
      expr('tier', 'In', 'a', 'b'),
      expr('env', 'NotIn', 'prod'),
      expr('team', 'Exists'),
      expr('legacy', 'DoesNotExist'),
    );
    const good = { app: 'web', tier: 'a', env: 'dev', team: 't' };
    expect(matchesSelector(s, good)).to.equal(true);
    expect(selectorMismatches(s, good)).to.deep.equal([]);
    for (const bad of [
      { ...good, app: 'api' },
      { ...good, tier: 'c' },
      { ...good, env: 'prod' },
      { app: 'web', tier: 'a', env: 'dev' },
      { ...good, legacy: 'yes' },
    ])
      expect(matchesSelector(s, bad), JSON.stringify(bad)).to.equal(false);
    expect(selectorMismatches(s, { app: 'api', env: 'prod', legacy: '' })).to.deep.equal([
      'app=api, not web',
      'has no label tier (tier In [a, b])',
      'env=prod is in [prod] (NotIn)',
      'has no label team (Exists)',
      'has label legacy (DoesNotExist)',
    ]);
    expect(formatSelector(s)).to.equal('app=web,tier in (a,b),env notin (prod),team,!legacy');
  });

  it('an operator outside the API is an internal error, never a silent match', () => {
    const bogus = sel({}, { key: 'a', operator: 'Equals' as never, values: ['1'] });
    for (const f of [
      () => matchesSelector(bogus, { a: '1' }),
      () => selectorMismatches(bogus, { a: '1' }),
      () => formatSelector(bogus),
    ])
      expect(f).to.throw(InternalError, 'unexpected selector operator: "Equals"');
  });
});
