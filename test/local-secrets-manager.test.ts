import { randomUUID } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { LocalSecretsManager } from './support/local-secrets-manager';
import { rejection } from './support/rejection';

let sm: LocalSecretsManager;
let client: SecretsManagerClient;

beforeEach(async () => {
  sm = await LocalSecretsManager.start();
  client = sm.client();
});

afterEach(async () => {
  await sm.stop();
});

async function createSecret(name: string, value = 'v1'): Promise<{ arn: string; versionId: string }> {
  const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return { arn: out.ARN!, versionId: out.VersionId! };
}

async function put(secretId: string, value: string, extra: Partial<{ token: string; stages: string[] }> = {}): Promise<string> {
  const out = await client.send(new PutSecretValueCommand({
    SecretId: secretId, SecretString: value, ClientRequestToken: extra.token, VersionStages: extra.stages,
  }));
  return out.VersionId!;
}

describe('server basics', () => {
  test('listens on 127.0.0.1 with the default region and account', () => {
    expect(sm.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sm.region).toBe('us-east-1');
    expect(sm.accountId).toBe('123456789012');
  });

  test('region and account options shape the ARN', async () => {
    const other = await LocalSecretsManager.start({ region: 'eu-west-1', accountId: '111122223333' });
    try {
      const out = await other.client().send(new CreateSecretCommand({ Name: 'x', SecretString: 'y' }));
      expect(out.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-[A-Za-z0-9]{6}$/);
    } finally {
      await other.stop();
    }
  });

  test('an unknown operation is answered with UnknownOperationException over the wire', async () => {
    const response = await fetch(sm.endpoint + '/', {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.DeleteEverything', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await response.json()).toEqual({ __type: 'UnknownOperationException', message: expect.stringContaining('DeleteEverything') });
  });

  test('a body that is not JSON is a SerializationException', async () => {
    const response = await fetch(sm.endpoint + '/', {
      method: 'POST',
      headers: { 'x-amz-target': 'secretsmanager.DescribeSecret', 'content-type': 'application/x-amz-json-1.1' },
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { __type: string }).__type).toBe('SerializationException');
  });

  test('the standard AWS_ENDPOINT_URL_SECRETS_MANAGER variable reaches the server', async () => {
    await createSecret('from-env');
    const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.endpoint;
    const envClient = new SecretsManagerClient({
      region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1,
    });
    try {
      const out = await envClient.send(new GetSecretValueCommand({ SecretId: 'from-env' }));
      expect(out.SecretString).toBe('v1');
    } finally {
      envClient.destroy();
      if (saved === undefined) {
        delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      } else {
        process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
      }
    }
  });

  test('every request is recorded in order, with its error code', async () => {
    await createSecret('recorded');
    await rejection(client.send(new GetSecretValueCommand({ SecretId: 'missing' })));
    expect(sm.calls.map(c => [c.operation, c.error])).toEqual([
      ['CreateSecret', undefined],
      ['GetSecretValue', 'ResourceNotFoundException'],
    ]);
    expect(sm.calls[0].input).toMatchObject({ Name: 'recorded', SecretString: 'v1' });
  });
});

describe('CreateSecret and DescribeSecret', () => {
  test('uses ClientRequestToken as the first VersionId and labels it AWSCURRENT', async () => {
    const token = randomUUID();
    const out = await client.send(new CreateSecretCommand({
      Name: 'app/db',
      SecretString: '{"a":1}',
      ClientRequestToken: token,
      Description: 'd',
      KmsKeyId: 'alias/k',
      Tags: [{ Key: 'team', Value: 'platform' }],
    }));
    expect(out.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:app\/db-[A-Za-z0-9]{6}$/);
    expect(out.VersionId).toBe(token);
    const described = await client.send(new DescribeSecretCommand({ SecretId: out.ARN }));
    expect(described).toMatchObject({
      ARN: out.ARN,
      Name: 'app/db',
      Description: 'd',
      KmsKeyId: 'alias/k',
      Tags: [{ Key: 'team', Value: 'platform' }],
      VersionIdsToStages: { [token]: ['AWSCURRENT'] },
    });
    expect(described.RotationEnabled).toBeUndefined();
    expect(described.LastChangedDate).toBeInstanceOf(Date);
    expect(Math.abs(described.CreatedDate!.getTime() - Date.now())).toBeLessThan(5000);
  });

  test('an existing name is a ResourceExistsException', async () => {
    await createSecret('dup');
    const error = await rejection(createSecret('dup', 'other'));
    expect(error).toMatchObject({ name: 'ResourceExistsException', status: 400 });
  });

  test('a secret may be created without a value: no version, nothing to read', async () => {
    const out = await client.send(new CreateSecretCommand({ Name: 'empty' }));
    expect(out.VersionId).toBeUndefined();
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'empty' }));
    expect(described.VersionIdsToStages).toBeUndefined();
    expect((await rejection(client.send(new GetSecretValueCommand({ SecretId: 'empty' })))).name).toBe('ResourceNotFoundException');
  });

  test('SecretBinary round-trips as bytes', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await client.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: bytes }));
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'bin' }));
    expect(Buffer.from(out.SecretBinary!)).toEqual(bytes);
    expect(out.SecretString).toBeUndefined();
  });

  test('SecretString and SecretBinary together are rejected', async () => {
    const error = await rejection(client.send(new CreateSecretCommand({ Name: 'both', SecretString: 'a', SecretBinary: Buffer.from('b') })));
    expect(error.name).toBe('InvalidParameterException');
  });

  test('a retry with the same name, ClientRequestToken and value succeeds with the original answer', async () => {
    const request = { Name: 'retried', SecretString: 'v1', ClientRequestToken: randomUUID() };
    const first = await client.send(new CreateSecretCommand(request));
    const retry = await client.send(new CreateSecretCommand(request));
    const answer = (out: typeof first) => ({ ARN: out.ARN, Name: out.Name, VersionId: out.VersionId });
    expect(answer(retry)).toEqual(answer(first));
    expect(sm.versionStages('retried')).toEqual({ [first.VersionId!]: ['AWSCURRENT'] });
  });

  test('a retry with the same name and ClientRequestToken but another value is a ResourceExistsException', async () => {
    const token = randomUUID();
    await client.send(new CreateSecretCommand({ Name: 'changed', SecretString: 'v1', ClientRequestToken: token }));
    const error = await rejection(client.send(new CreateSecretCommand({ Name: 'changed', SecretString: 'v2', ClientRequestToken: token })));
    expect(error).toMatchObject({ name: 'ResourceExistsException', status: 400 });
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'changed' }))).SecretString).toBe('v1');
  });
});

describe('GetSecretValue', () => {
  test('reads by name, by ARN and by partial ARN; defaults to AWSCURRENT', async () => {
    const { arn, versionId } = await createSecret('reader', 'one');
    for (const id of ['reader', arn, arn.slice(0, -7)]) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: id }));
      expect(out).toMatchObject({ ARN: arn, Name: 'reader', VersionId: versionId, SecretString: 'one', VersionStages: ['AWSCURRENT'] });
      expect(out.CreatedDate).toBeInstanceOf(Date);
    }
  });

  test('a VersionId with a VersionStage that version holds reads that version', async () => {
    const { versionId: first } = await createSecret('agree', 'one');
    const second = await put('agree', 'two');
    const previous = await client.send(new GetSecretValueCommand({ SecretId: 'agree', VersionId: first, VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('one');
    const byStage = await client.send(new GetSecretValueCommand({ SecretId: 'agree', VersionStage: 'AWSCURRENT' }));
    expect(byStage.VersionId).toBe(second);
  });

  test('a VersionId with a VersionStage that version does not hold is an InvalidRequestException', async () => {
    const { versionId: first } = await createSecret('disagree', 'one');
    await put('disagree', 'two');
    const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: 'disagree', VersionId: first, VersionStage: 'AWSCURRENT' })));
    expect(error).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(error.message).toBe('You provided a VersionStage that is not associated to the provided VersionId.');
  });

  test.each([
    ['an unknown secret', { SecretId: 'nope' }],
    ['an unknown VersionId', { SecretId: 'errors', VersionId: randomUUID() }],
    ['a label on no version', { SecretId: 'errors', VersionStage: 'AWSPENDING' }],
  ])('%s is a ResourceNotFoundException', async (_what, input) => {
    await createSecret('errors');
    expect((await rejection(client.send(new GetSecretValueCommand(input)))).name).toBe('ResourceNotFoundException');
  });
});

describe('PutSecretValue', () => {
  test('moving AWSCURRENT puts AWSPREVIOUS on the old current; older versions lose their labels', async () => {
    const { versionId: v1 } = await createSecret('labels', 'one');
    const v2 = await put('labels', 'two');
    expect(sm.versionStages('labels')).toEqual({ [v2]: ['AWSCURRENT'], [v1]: ['AWSPREVIOUS'] });
    const v3 = await put('labels', 'three');
    expect(sm.versionStages('labels')).toEqual({ [v3]: ['AWSCURRENT'], [v2]: ['AWSPREVIOUS'] });
    const deprecated = await client.send(new GetSecretValueCommand({ SecretId: 'labels', VersionId: v1 }));
    expect(deprecated).toMatchObject({ SecretString: 'one', VersionStages: [] });
    const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'labels', IncludeDeprecated: true }));
    expect(listed.Versions!.map(v => v.VersionId)).toEqual([v1, v2, v3]);
  });

  test('VersionStages [AWSPENDING] leaves AWSCURRENT where it is', async () => {
    const { versionId: v1 } = await createSecret('pending', 'one');
    const v2 = await put('pending', 'two', { stages: ['AWSPENDING'] });
    expect(sm.versionStages('pending')).toEqual({ [v1]: ['AWSCURRENT'], [v2]: ['AWSPENDING'] });
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'pending' }))).SecretString).toBe('one');
  });

  test('the same token with the same value is an idempotent success that changes nothing', async () => {
    await createSecret('idem', 'one');
    const token = randomUUID();
    await put('idem', 'two', { token });
    const v3 = await put('idem', 'three');
    const before = sm.versionStages('idem');
    const repeated = await client.send(new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'two', ClientRequestToken: token }));
    expect(repeated.VersionId).toBe(token);
    expect(repeated.VersionStages).toEqual(['AWSPREVIOUS']);
    expect(sm.versionStages('idem')).toEqual(before);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'idem' }))).VersionId).toBe(v3);
  });

  test('the same token with a different value is a ResourceExistsException and keeps the stored value', async () => {
    await createSecret('exists', 'one');
    const token = randomUUID();
    await put('exists', 'two', { token, stages: ['AWSPENDING'] });
    const error = await rejection(put('exists', 'changed', { token, stages: ['AWSPENDING'] }));
    expect(error).toMatchObject({ name: 'ResourceExistsException', status: 400 });
    const stored = await client.send(new GetSecretValueCommand({ SecretId: 'exists', VersionId: token }));
    expect(stored.SecretString).toBe('two');
  });

  test('a custom label moves off its previous version', async () => {
    await createSecret('custom', 'one');
    const a = await put('custom', 'a', { stages: ['BLUE'] });
    const b = await put('custom', 'b', { stages: ['BLUE'] });
    expect(sm.versionStages('custom')[a]).toBeUndefined();
    expect(sm.versionStages('custom')[b]).toEqual(['BLUE']);
  });

  test('without a value it is an InvalidParameterException', async () => {
    await createSecret('novalue');
    const error = await rejection(client.send(new PutSecretValueCommand({ SecretId: 'novalue' })));
    expect(error.name).toBe('InvalidParameterException');
  });
});

describe('UpdateSecretVersionStage', () => {
  async function threeVersions(name: string): Promise<[string, string, string]> {
    const { versionId: v1 } = await createSecret(name, 'one');
    const v2 = await put(name, 'two');
    const v3 = await put(name, 'three', { stages: ['AWSPENDING'] });
    return [v1, v2, v3];
  }

  test('moving AWSCURRENT without RemoveFromVersionId names the version holding it', async () => {
    const [, v2, v3] = await threeVersions('stage1');
    const error = await rejection(client.send(new UpdateSecretVersionStageCommand({
      SecretId: 'stage1', VersionStage: 'AWSCURRENT', MoveToVersionId: v3,
    })));
    expect(error.name).toBe('InvalidParameterException');
    expect(error.message).toContain(v2);
    expect(sm.versionStages('stage1')[v2]).toEqual(['AWSCURRENT']);
  });

  test('a RemoveFromVersionId that does not hold the label is rejected', async () => {
    const [v1, v2, v3] = await threeVersions('stage2');
    const error = await rejection(client.send(new UpdateSecretVersionStageCommand({
      SecretId: 'stage2', VersionStage: 'AWSCURRENT', MoveToVersionId: v3, RemoveFromVersionId: v1,
    })));
    expect(error.name).toBe('InvalidParameterException');
    expect(error.message).toContain(v2);
  });

  test('a correct move puts AWSPREVIOUS on the old current and keeps AWSPENDING', async () => {
    const [v1, v2, v3] = await threeVersions('stage3');
    await client.send(new UpdateSecretVersionStageCommand({
      SecretId: 'stage3', VersionStage: 'AWSCURRENT', MoveToVersionId: v3, RemoveFromVersionId: v2,
    }));
    expect(sm.versionStages('stage3')).toEqual({ [v3]: ['AWSCURRENT', 'AWSPENDING'], [v2]: ['AWSPREVIOUS'] });
    expect(sm.versionStages('stage3')[v1]).toBeUndefined();
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'stage3' }))).SecretString).toBe('three');
  });

  test('RemoveFromVersionId alone removes the label', async () => {
    const [, v2, v3] = await threeVersions('stage4');
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: 'stage4', VersionStage: 'AWSPENDING', RemoveFromVersionId: v3 }));
    expect(sm.versionStages('stage4')[v3]).toBeUndefined();
    expect(sm.versionStages('stage4')[v2]).toEqual(['AWSCURRENT']);
  });

  test('a label that is on no version can be attached without RemoveFromVersionId', async () => {
    const [v1] = await threeVersions('stage5');
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: 'stage5', VersionStage: 'GREEN', MoveToVersionId: v1 }));
    expect(sm.versionStages('stage5')[v1]).toEqual(['AWSPREVIOUS', 'GREEN']);
  });

  test('an unknown MoveToVersionId is a ResourceNotFoundException', async () => {
    const [, v2] = await threeVersions('stage6');
    const error = await rejection(client.send(new UpdateSecretVersionStageCommand({
      SecretId: 'stage6', VersionStage: 'AWSCURRENT', MoveToVersionId: randomUUID(), RemoveFromVersionId: v2,
    })));
    expect(error.name).toBe('ResourceNotFoundException');
    expect(sm.versionStages('stage6')[v2]).toEqual(['AWSCURRENT']);
  });

  test('removing a label from a version that does not have it is rejected', async () => {
    const [v1] = await threeVersions('stage7');
    const error = await rejection(client.send(new UpdateSecretVersionStageCommand({
      SecretId: 'stage7', VersionStage: 'ORANGE', RemoveFromVersionId: v1,
    })));
    expect(error.name).toBe('InvalidParameterException');
  });
});

describe('ListSecrets', () => {
  test('pages with MaxResults and NextToken and reports the same fields as DescribeSecret', async () => {
    const names = ['a1', 'a2', 'b1', 'a3', 'b2'];
    for (const name of names) {
      await createSecret(name);
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListSecretsCommand({ MaxResults: 2, NextToken: nextToken }));
      seen.push(...page.SecretList!.map(s => s.Name!));
      nextToken = page.NextToken;
      pages++;
    } while (nextToken);
    expect(seen).toEqual(names);
    expect(pages).toBe(3);
    const first = (await client.send(new ListSecretsCommand({ MaxResults: 1 }))).SecretList![0];
    expect(first.SecretVersionsToStages).toEqual(sm.versionStages('a1'));
    expect(first.ARN).toMatch(/:secret:a1-/);
  });

  test('filters by name prefix', async () => {
    for (const name of ['app/one', 'app/two', 'other']) {
      await createSecret(name);
    }
    const out = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['app/'] }] }));
    expect(out.SecretList!.map(s => s.Name)).toEqual(['app/one', 'app/two']);
  });

  test('an invalid NextToken is rejected', async () => {
    const error = await rejection(client.send(new ListSecretsCommand({ NextToken: 'garbage' })));
    expect(error.name).toBe('InvalidNextTokenException');
  });
});

describe('CancelRotateSecret', () => {
  test('turns rotation off explicitly', async () => {
    await createSecret('cancel');
    const out = await client.send(new CancelRotateSecretCommand({ SecretId: 'cancel' }));
    expect(out.Name).toBe('cancel');
    expect((await client.send(new DescribeSecretCommand({ SecretId: 'cancel' }))).RotationEnabled).toBe(false);
  });
});
