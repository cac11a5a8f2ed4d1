import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { AWSCURRENT, AWSPENDING, MAX_VERSIONS_PER_SECRET, SecretStore } from './support/local-secrets-manager';
import { endpointPerTest, serviceErrorCode } from './support/local-secrets-manager/testing';
import { rejection } from './support/rejection';

const HOUR_MS = 3600 * 1000;

const local = endpointPerTest();

async function put(secretId: string, value: string, stages?: string[]): Promise<string> {
  const out = await local.client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value, VersionStages: stages }));
  return out.VersionId!;
}

/** A store whose clock the test moves. */
function storeWithClock(): { store: SecretStore; advance: (ms: number) => void } {
  let now = Date.UTC(2030, 0, 1);
  return { store: new SecretStore({ now: () => new Date(now) }), advance: ms => (now += ms) };
}

/** Fills a secret up to the quota: the first version plus puts with only a custom label, so each older one is unlabelled. */
function fill(store: SecretStore, name: string): string[] {
  const ids = [store.createSecret({ Name: name, SecretString: 'v0' }).VersionId!];
  while (ids.length < MAX_VERSIONS_PER_SECRET) {
    ids.push(store.putSecretValue({ SecretId: name, SecretString: `v${ids.length}`, VersionStages: ['LATEST'] }).VersionId!);
  }
  return ids;
}

describe('labels on PutSecretValue and UpdateSecretVersionStage', () => {
  test('the first PutSecretValue on a secret without versions gets AWSCURRENT whatever stages were asked for', async () => {
    await local.client.send(new CreateSecretCommand({ Name: 'empty' }));
    const first = await put('empty', 'one', [AWSPENDING]);
    expect(Object.keys(local.sm.versionStages('empty'))).toEqual([first]);
    expect(local.sm.versionStages('empty')[first].sort()).toEqual([AWSCURRENT, AWSPENDING]);
  });

  test('PutSecretValue with default stages takes AWSPENDING off the old AWSCURRENT version that held it', async () => {
    const { VersionId: first } = await local.client.send(new CreateSecretCommand({ Name: 'finished', SecretString: 'one' }));
    // a finished rotation can leave AWSPENDING on the current version
    await local.client.send(new UpdateSecretVersionStageCommand({ SecretId: 'finished', VersionStage: AWSPENDING, MoveToVersionId: first }));
    const second = await put('finished', 'two');
    expect(local.sm.versionStages('finished')).toEqual({ [second]: [AWSCURRENT], [first!]: ['AWSPREVIOUS'] });
  });

  test('UpdateSecretVersionStage that only removes AWSCURRENT is an InvalidParameterException', async () => {
    const { VersionId: first } = await local.client.send(new CreateSecretCommand({ Name: 'keep', SecretString: 'one' }));
    const error = await rejection(local.client.send(new UpdateSecretVersionStageCommand({
      SecretId: 'keep', VersionStage: AWSCURRENT, RemoveFromVersionId: first,
    })));
    expect(error).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(local.sm.versionStages('keep')).toEqual({ [first!]: [AWSCURRENT] });
  });
});

describe('ListSecretVersionIds', () => {
  test('pages with MaxResults and NextToken, oldest first', async () => {
    const { VersionId: first } = await local.client.send(new CreateSecretCommand({ Name: 'paged', SecretString: 'v0' }));
    const ids = [first!];
    for (let i = 1; i < 5; i++) {
      ids.push(await put('paged', `v${i}`, [`L${i}`]));
    }
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await local.client.send(new ListSecretVersionIdsCommand({ SecretId: 'paged', MaxResults: 2, NextToken: nextToken }));
      pages.push(page.Versions!.map(v => v.VersionId!));
      nextToken = page.NextToken;
    } while (nextToken);
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
  });

  test.each([0, 101])('MaxResults %i is a ValidationException', async maxResults => {
    await local.client.send(new CreateSecretCommand({ Name: 'bounds', SecretString: 'v0' }));
    const error = await rejection(local.client.send(new ListSecretVersionIdsCommand({ SecretId: 'bounds', MaxResults: maxResults })));
    expect(error).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(error.message).toContain('maxResults');
  });

  test('an unlabelled version is listed only with IncludeDeprecated, and without VersionStages', async () => {
    const { VersionId: first } = await local.client.send(new CreateSecretCommand({ Name: 'deprecated', SecretString: 'v0' }));
    await put('deprecated', 'v1');
    await put('deprecated', 'v2');
    const active = await local.client.send(new ListSecretVersionIdsCommand({ SecretId: 'deprecated' }));
    expect(active.Versions!.map(v => v.VersionId)).not.toContain(first);
    const all = await local.client.send(new ListSecretVersionIdsCommand({ SecretId: 'deprecated', IncludeDeprecated: true }));
    const listed = all.Versions!.find(v => v.VersionId === first)!;
    expect(listed).not.toHaveProperty('VersionStages');
    expect(listed.CreatedDate).toBeInstanceOf(Date);
  });

  test('an invalid NextToken is an InvalidNextTokenException', async () => {
    await local.client.send(new CreateSecretCommand({ Name: 'token', SecretString: 'v0' }));
    const error = await rejection(local.client.send(new ListSecretVersionIdsCommand({ SecretId: 'token', NextToken: 'garbage' })));
    expect(error.name).toBe('InvalidNextTokenException');
  });
});

describe('the versions-per-secret quota', () => {
  test('a version beyond the quota is a LimitExceededException while every unlabelled version is younger than 24 hours', () => {
    const { store, advance } = storeWithClock();
    const ids = fill(store, 's');
    advance(23 * HOUR_MS);
    expect(serviceErrorCode(() => store.putSecretValue({ SecretId: 's', SecretString: 'one too many', ClientRequestToken: randomUUID() })))
      .toBe('LimitExceededException');
    expect([...store.resolve('s').versions.keys()]).toEqual(ids);
  });

  test('unlabelled versions older than 24 hours are removed to make room, oldest first and no more than needed', () => {
    const { store, advance } = storeWithClock();
    const ids = fill(store, 's');
    advance(24 * HOUR_MS);
    const { VersionId: added } = store.putSecretValue({ SecretId: 's', SecretString: 'fits', VersionStages: ['LATEST'] });
    const kept = [...store.resolve('s').versions.keys()];
    // ids[0] is AWSCURRENT (labelled), so the oldest unlabelled version is ids[1]
    expect(kept).toEqual([ids[0], ...ids.slice(2), added]);
  });

  test('RotateSecret beyond the quota is a LimitExceededException and configures nothing', () => {
    const { store } = storeWithClock();
    fill(store, 's');
    expect(serviceErrorCode(() => store.rotateSecret({ SecretId: 's', RotationLambdaARN: 'arn:fn' }))).toBe('LimitExceededException');
    expect(store.describeSecret({ SecretId: 's' }).RotationEnabled).toBeUndefined();
  });
});
