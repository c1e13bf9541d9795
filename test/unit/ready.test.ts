import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { fatalReason } from '../../src/cluster/ready.js';

/** A pod as the API returns it (plain JSON; the function reads it as a V1Pod). */
const pod = (status: object): V1Pod =>
  JSON.parse(JSON.stringify({ metadata: { namespace: 'shop-r1', name: 'web' }, status })) as V1Pod;

describe('waiting for probe pods: reasons that stop the wait at once', () => {
  it('an image that cannot be pulled names the image and says to pass --image', () => {
    const r = fatalReason(
      pod({
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'probe',
            image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
          },
        ],
      }),
      0,
    );
    expect(r?.message).to.include('container probe: ImagePullBackOff');
    expect(r?.message).to.include('agnhost:2.53');
    expect(r?.hint).to.include('pass --image');
  });

  it('a crash loop points at the container log', () => {
    const r = fatalReason(
      pod({
        containerStatuses: [
          { name: 'serve-80', image: 'i', state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      }),
      0,
    );
    expect(r?.hint).to.include('kubectl logs -n shop-r1 web -c serve-80 --previous');
  });

  it('an unschedulable pod gets a grace period, then fails with the scheduler message', () => {
    const status = {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/1 nodes are available: 1 node(s) had untolerated taint',
        },
      ],
    };
    expect(fatalReason(pod(status), 1_000)).to.equal(undefined);
    const r = fatalReason(pod(status), 11_000);
    expect(r?.message).to.include('untolerated taint');
    expect(r?.hint).to.include('kubectl describe pod -n shop-r1 web');
  });

  it('a pod still starting is not fatal', () => {
    expect(
      fatalReason(
        pod({
          phase: 'Pending',
          containerStatuses: [
            { name: 'probe', image: 'i', state: { waiting: { reason: 'ContainerCreating' } } },
          ],
        }),
        5_000,
      ),
    ).to.equal(undefined);
  });
});
