import { expect } from 'chai';
import { InputError } from '../../src/domain/errors.js';
import { formatIssue } from '../../src/domain/issue.js';
import { parseScenario } from '../../src/dsl/load.js';
import { parseYamlDocuments } from '../../src/manifest/document.js';

/* The YAML reader's memory of texts it has read, and the readers that share what it gives. */

const POD = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: x, labels: {app: web}}\nspec: {containers: [{name: c, image: i}]}\n`;

describe('parseYamlDocuments: texts read again', () => {
  it('the same file and text: the same values, frozen to the leaves; the same locations', () => {
    const first = parseYamlDocuments(`${POD('a')}---\n${POD('b')}`, 'same.yaml');
    const again = parseYamlDocuments(`${POD('a')}---\n${POD('b')}`, 'same.yaml');
    expect(again.documents).to.have.length(2);
    expect(again.documents[1]?.value).to.equal(first.documents[1]?.value);
    const value = again.documents[0]?.value as { metadata: { labels: Record<string, string> } };
    expect(Object.isFrozen(value)).to.equal(true);
    expect(Object.isFrozen(value.metadata.labels)).to.equal(true);
    expect(() => {
      value.metadata.labels.app = 'db';
    }).to.throw(TypeError);
    expect(again.documents[1]?.locate('metadata.name')).to.deep.equal({
      file: 'same.yaml',
      line: 8,
      col: 12,
    });
    // The lists are the caller's own.
    again.documents.pop();
    expect(parseYamlDocuments(`${POD('a')}---\n${POD('b')}`, 'same.yaml').documents).to.have.length(
      2,
    );
  });

  it('an edited text is read again; the same text under another name is located in that file', () => {
    const before = parseYamlDocuments(POD('a'), 'edited.yaml').documents[0]?.value;
    const after = parseYamlDocuments(POD('b'), 'edited.yaml').documents[0]?.value;
    expect((after as { metadata: { name: string } }).metadata.name).to.equal('b');
    expect((before as { metadata: { name: string } }).metadata.name).to.equal('a');
    const elsewhere = parseYamlDocuments(POD('a'), 'other.yaml');
    expect(elsewhere.documents[0]?.file).to.equal('other.yaml');
    expect(elsewhere.documents[0]?.locate('metadata.name').file).to.equal('other.yaml');
  });

  it('a text above 256 kB is not kept: read twice, two values, neither frozen', () => {
    const big = `${POD('a')}${'# padding\n'.repeat(30_000)}`;
    const one = parseYamlDocuments(big, 'big.yaml').documents[0]?.value;
    const two = parseYamlDocuments(big, 'big.yaml').documents[0]?.value;
    expect(two).to.deep.equal(one);
    expect(two).to.not.equal(one);
    expect(Object.isFrozen(one)).to.equal(false);
  });

  it('a scenario whose YAML 1.1 keys are renamed leaves the shared value as read: the same issues every time', async () => {
    const text = [
      'apiVersion: polygraph.dev/v1alpha1',
      'kind: Scenario',
      'metadata: {name: keys}',
      'topology:',
      '  namespaces:',
      '    no:',
      '      pods:',
      '        a: {ports: [80]}',
      'expect: {default: allow}',
      '',
    ].join('\n');
    const issues = async () => {
      try {
        await parseScenario(text, 'keys.yaml');
      } catch (error) {
        if (error instanceof InputError) return error.issues.map(formatIssue);
        throw error;
      }
      return [];
    };
    const first = await issues();
    expect(first).to.deep.equal([
      'keys.yaml:6:5: topology.namespaces.no: the key no is the boolean false in YAML 1.1 (as kubectl reads manifests), not the string "no": quote it, "no"',
    ]);
    expect(await issues()).to.deep.equal(first);
    const value = parseYamlDocuments(text, 'keys.yaml').documents[0]?.value as {
      topology: { namespaces: Record<string, unknown> };
    };
    expect(Object.keys(value.topology.namespaces)).to.deep.equal(['false']);
  });
});
