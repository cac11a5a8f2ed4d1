import { randomInt, randomUUID } from 'node:crypto';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretStore } from './support/local-secrets-manager';
import { serviceErrorCode } from './support/local-secrets-manager/testing';

function holderOf(store: SecretStore, name: string, label: string): string | undefined {
  return Object.entries(store.versionStages(name)).find(([, labels]) => labels.includes(label))?.[0];
}

describe('SecretStore', () => {
  test('uses the injected clock for dates', () => {
    const now = new Date('2030-01-02T03:04:05Z');
    const store = new SecretStore({ now: () => now });
    store.createSecret({ Name: 's', SecretString: 'x' });
    expect(store.describeSecret({ SecretId: 's' })).toMatchObject({ CreatedDate: now, LastChangedDate: now });
  });

  test('the pending placeholder has no value but is listed with its label', () => {
    const store = new SecretStore();
    store.createSecret({ Name: 's', SecretString: 'x' });
    const token = randomUUID();
    const { started } = store.rotateSecret({ SecretId: 's', ClientRequestToken: token, RotationLambdaARN: 'arn:fn' });
    expect(started).toMatchObject({ kind: 'rotation', token, lambdaArn: 'arn:fn' });
    expect(store.describeSecret({ SecretId: 's' }).VersionIdsToStages![token]).toEqual([AWSPENDING]);
    expect(serviceErrorCode(() => store.getSecretValue({ SecretId: 's', VersionId: token }))).toBe('ResourceNotFoundException');
    store.putSecretValue({ SecretId: 's', ClientRequestToken: token, SecretString: 'new', VersionStages: [AWSPENDING], RotationToken: 'rt' });
    expect(store.getSecretValue({ SecretId: 's', VersionId: token, VersionStage: AWSPENDING }).SecretString).toBe('new');
    expect(store.resolve('s').versions.get(token)!.rotationToken).toBe('rt');
  });

  test('completeRotation only succeeds once AWSCURRENT is on the token, then removes AWSPENDING', () => {
    const store = new SecretStore();
    const { VersionId: first } = store.createSecret({ Name: 's', SecretString: 'x' });
    const token = randomUUID();
    const { started } = store.rotateSecret({ SecretId: 's', ClientRequestToken: token, RotationLambdaARN: 'arn:fn' });
    store.putSecretValue({ SecretId: 's', ClientRequestToken: token, SecretString: 'new', VersionStages: [AWSPENDING] });
    expect(store.completeRotation(started!.secretArn, token)).toBe(false);
    store.updateSecretVersionStage({ SecretId: 's', VersionStage: AWSCURRENT, MoveToVersionId: token, RemoveFromVersionId: first });
    expect(store.completeRotation(started!.secretArn, token)).toBe(true);
    expect(store.versionStages('s')).toEqual({ [token]: [AWSCURRENT], [first!]: [AWSPREVIOUS] });
    expect(store.describeSecret({ SecretId: 's' }).LastRotatedDate).toBeInstanceOf(Date);
    expect(store.rotationState(started!.secretArn, token)).toBeUndefined();
  });

  test('PutSecretValue with AWSCURRENT and an explicit AWSPREVIOUS keeps the explicit one', () => {
    const store = new SecretStore();
    store.createSecret({ Name: 's', SecretString: 'x' });
    const { VersionId: v2 } = store.putSecretValue({ SecretId: 's', SecretString: 'y', VersionStages: [AWSPREVIOUS, AWSCURRENT] });
    expect(store.versionStages('s')).toEqual({ [v2!]: [AWSCURRENT, AWSPREVIOUS] });
  });

  test('a random sequence of operations never puts a label on two versions and keeps AWSPREVIOUS automatic', () => {
    // a day passes per operation, so deprecated versions age out and the version quota never stops the sequence
    let day = 0;
    const store = new SecretStore({ now: () => new Date(Date.UTC(2030, 0, 1) + day * 24 * 3600 * 1000) });
    store.createSecret({ Name: 's', SecretString: 'v0' });
    const labels = [AWSCURRENT, AWSPENDING, AWSPREVIOUS, 'BLUE'];
    for (let i = 0; i < 500; i++, day++) {
      const before = holderOf(store, 's', AWSCURRENT);
      if (randomInt(2) === 0) {
        const stage = labels[randomInt(labels.length)];
        const { VersionId } = store.putSecretValue({ SecretId: 's', SecretString: `v${i}`, VersionStages: [stage] });
        expect(holderOf(store, 's', stage)).toBe(VersionId);
      } else {
        const stage = labels[randomInt(labels.length)];
        const versions = [...store.resolve('s').versions.keys()];
        const target = versions[randomInt(versions.length)];
        const holder = holderOf(store, 's', stage);
        store.updateSecretVersionStage({ SecretId: 's', VersionStage: stage, MoveToVersionId: target, RemoveFromVersionId: holder });
        expect(holderOf(store, 's', stage)).toBe(target);
      }
      const after = holderOf(store, 's', AWSCURRENT);
      const all = Object.values(store.versionStages('s')).flat();
      expect(all.length).toBe(new Set(all).size);
      expect(after).toBeDefined();
      if (after !== before) {
        expect(holderOf(store, 's', AWSPREVIOUS)).toBe(before);
      }
    }
  });
});
