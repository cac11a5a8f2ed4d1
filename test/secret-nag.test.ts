import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describeFindings, nagFindings } from './nag';
import { RotationEngine, Secret, SecretKeyStrategy, SecretPolicy, SecretTemplate, SecretsManagerEndpoints } from '../src';
import { importedVpc } from './rotation/fixtures';

const ACCOUNT = '111111111111';

function envStack(): Stack {
  return new Stack(new App(), 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
}

/**
 * The VPC the rotation functions run in, with the Secrets Manager endpoint its isolated subnets reach the service
 * through (without one in the app, the functions' route to Secrets Manager is unknown and reported).
 */
function rotationVpc(stack: Stack): ec2.IVpc {
  const vpc = importedVpc(stack);
  new SecretsManagerEndpoints(stack, 'Endpoints', { vpc });
  return vpc;
}

function appRole(stack: Stack): iam.Role {
  return new iam.Role(stack, 'AppRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
}

/** The rotation rules of the three packs that have one: a secret nobody rotates is a real finding, left to the user. */
const ROTATION_RULES = [
  'AwsSolutions-SMG4',
  'HIPAA.Security-SecretsManagerRotationEnabled',
  'NIST.800.53.R5-SecretsManagerRotationEnabled',
];

describe('cdk-nag: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1, Serverless', () => {
  test('Secret with defaults: only the rotation rules fire, until it is rotated', () => {
    const stack = envStack();
    new Secret(stack, 'Secret');
    expect(describeFindings(nagFindings(stack))).toEqual(ROTATION_RULES.map((r) => `error /Test/Secret/Resource: ${r}`).sort());
  });

  test('Secret with defaults and a rotation reports nothing', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', {
      template: SecretTemplate.database({ rotationEngine: RotationEngine.POSTGRES_SINGLE_USER, host: 'db.internal', username: 'app' }),
    });
    secret.addRotation({ rotationFunctionOptions: { vpc: rotationVpc(stack) } });
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('every option on reports nothing: templates, replicas, sharing, managed-policy reads, rotation, presets', () => {
    const stack = envStack();
    const vpc = rotationVpc(stack);
    const master = new Secret(stack, 'Master', {
      template: SecretTemplate.database({ rotationEngine: RotationEngine.POSTGRES_SINGLE_USER, host: 'db.internal', username: 'admin' }),
    });
    const secret = new Secret(stack, 'App', {
      secretName: 'app/db',
      description: 'application credentials',
      template: SecretTemplate.database({
        rotationEngine: RotationEngine.POSTGRES_MULTI_USER, host: 'db.internal', username: 'app', dbname: 'orders', masterSecret: master,
      }),
      replicaRegions: [
        { region: 'eu-west-1', encryptionKey: kms.Key.fromKeyArn(stack, 'EuKey', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`) },
      ],
    });
    master.addRotation({ rotationFunctionOptions: { vpc } });
    secret.addRotation({ rotationFunctionOptions: { vpc } });
    secret.shareWithAccount('222222222222', { principalArns: ['arn:aws:iam::222222222222:role/reader'] });
    secret.grantReadWithManagedPolicy(appRole(stack));
    SecretPolicy.applyTo(secret, SecretPolicy.denyWithoutTls());
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('the stack\'s shared key with many secrets, a key per secret, sharing and a migrated generator report nothing', () => {
    const stack = envStack();
    const vpc = rotationVpc(stack);
    const template = (i: number) => SecretTemplate.database({ rotationEngine: RotationEngine.POSTGRES_SINGLE_USER, host: 'db.internal', username: `app${i}` });
    for (let i = 0; i < 11; i++) {
      new Secret(stack, `App${i}`, { template: template(i) }).addRotation({ rotationFunctionOptions: { vpc } });
    }
    const own = new Secret(stack, 'Own', { secretName: 'payments/db', keyStrategy: SecretKeyStrategy.PER_SECRET, template: template(11) });
    own.addRotation({ rotationFunctionOptions: { vpc } });
    own.shareWithAccount('222222222222');
    const migrated = new Secret(stack, 'Migrated', {
      generateSecretString: { secretStringTemplate: JSON.stringify({ engine: 'postgres', host: 'db.internal', username: 'legacy' }), generateStringKey: 'password' },
    });
    migrated.addRotation({ engine: RotationEngine.POSTGRES_SINGLE_USER, rotationFunctionOptions: { vpc } });
    migrated.shareWithAccount('222222222222');
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('why grantReadWithManagedPolicy: grantRead\'s inline DefaultPolicy fails the HIPAA, NIST and PCI packs', () => {
    const stack = envStack();
    const secret = new Secret(stack, 'Secret', {
      template: SecretTemplate.database({ rotationEngine: RotationEngine.POSTGRES_SINGLE_USER, host: 'db.internal', username: 'app' }),
    });
    secret.addRotation({ rotationFunctionOptions: { vpc: rotationVpc(stack) } });
    secret.grantRead(appRole(stack));
    expect(describeFindings(nagFindings(stack))).toEqual([
      'error /Test/AppRole/DefaultPolicy/Resource: HIPAA.Security-IAMNoInlinePolicy',
      'error /Test/AppRole/DefaultPolicy/Resource: NIST.800.53.R5-IAMNoInlinePolicy',
      'error /Test/AppRole/DefaultPolicy/Resource: PCI.DSS.321-IAMNoInlinePolicy',
    ]);
  });
});
