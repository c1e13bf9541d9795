import { expect } from 'chai';
import { podBody } from '../../src/cluster/index.js';

describe('the Pod object a run creates', () => {
  const input = {
    namespace: 'x-r',
    name: 'a',
    labels: { app: 'a' },
    containers: [
      { name: 'probe', image: 'img', ports: [{ containerPort: 80, protocol: 'TCP' as const }] },
    ],
  };

  it('is locked down: non-root, no privilege escalation, no capabilities, read-only root, seccomp RuntimeDefault, no token', () => {
    const { spec } = podBody(input);
    expect(spec.securityContext).to.deep.include({
      runAsNonRoot: true,
      runAsUser: 65534,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.automountServiceAccountToken).to.equal(false);
    expect(spec.containers[0]?.securityContext).to.deep.equal({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(spec).to.not.have.property('affinity');
    expect(spec).to.not.have.property('nodeName');
  });

  it('a placement pins the pod to one node through the scheduler: required node affinity on metadata.name, never spec.nodeName', () => {
    const { spec } = podBody({ ...input, node: 'worker-2' });
    expect(spec).to.not.have.property('nodeName');
    expect(spec).to.have.deep.property('affinity', {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['worker-2'] }] },
          ],
        },
      },
    });
  });
});
