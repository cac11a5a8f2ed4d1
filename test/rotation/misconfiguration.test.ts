import { App, Fn, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { importedVpc, secret, secretKey, testStack } from './fixtures';
import { RotationEngine, RotationFunction, SecretPolicy, SecretRotation, SecretsManagerEndpoints } from '../../src';

/**
 * Resource-policy presets that would deny the rotation function its Secrets Manager calls: refused at synth where that
 * is certain, a warning where a token or a wildcard leaves it open.
 */

const SINGLE = RotationEngine.POSTGRES_SINGLE_USER;
const MULTI = RotationEngine.POSTGRES_MULTI_USER;
const RESTRICT_WARNING = 'cdk-secrets-platform:rotationRestrictToPrincipals';
const ENDPOINT_WARNING = 'cdk-secrets-platform:rotationDenyOutsideVpcEndpoints';

/** The validation errors of a synthesis, or [] when it passes. */
function synthErrors(stack: Stack): string {
  try {
    Template.fromStack(stack);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

/** Warnings with an id, by message. */
function warnings(stack: Stack, id: string): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(`\\[ack: ${id}\\]`))
    .map((m) => String(m.entry.data));
}

/** The synthesis passes, with one warning of the preset for the secret `Test/Secret`. */
function expectUndecided(stack: Stack, id: string, preset: string): void {
  expect(synthErrors(stack)).toBe('');
  expect(warnings(stack, id)).toEqual([
    expect.stringMatching(new RegExp(`^SecretPolicy.${preset} on the secret Test/Secret may deny Secrets Manager to the rotation function .* cannot be decided at synth`)),
  ]);
}

/** An alternating-users rotation; returns its master secret. */
function alternatingUsers(stack: Stack): { master: secretsmanager.Secret; rotation: SecretRotation } {
  const key = secretKey(stack);
  const master = secret(stack, 'Master', key);
  const rotation = new SecretRotation(stack, 'Rotation', { secret: secret(stack, 'Secret', key), engine: MULTI, masterSecret: master });
  return { master, rotation };
}

function appRole(stack: Stack, id = 'AppRole'): iam.Role {
  return new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
}

function secretsManagerEndpoint(stack: Stack, vpc: ec2.IVpc, id = 'Endpoint', options: Partial<ec2.InterfaceVpcEndpointProps> = {}): ec2.InterfaceVpcEndpoint {
  return new ec2.InterfaceVpcEndpoint(stack, id, { vpc, service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, ...options });
}

describe('SecretPolicy.restrictToPrincipals and the rotation function', () => {
  test('leaving out the function\'s role is refused at synth, also when the preset is applied after the rotation', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    SecretPolicy.applyTo(s, SecretPolicy.restrictToPrincipals([appRole(stack)]));
    expect(synthErrors(stack)).toMatch(/\[Test\/Rotation\] SecretRotation: SecretPolicy.restrictToPrincipals on the secret Test\/Secret denies Secrets Manager to the rotation function Test\/RotationFunction-postgres-single-user-[0-9a-f]+, whose role is not one of the principals \(or exemptPrincipals\)/);
  });

  test('a preset applied before the rotation is checked too', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    SecretPolicy.applyTo(s, SecretPolicy.restrictToPrincipals([appRole(stack)]));
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    expect(synthErrors(stack)).toMatch(/SecretPolicy.restrictToPrincipals on the secret Test\/Secret denies Secrets Manager/);
  });

  test.each<[string, (stack: Stack, fn: RotationFunction) => SecretPolicy]>([
    ['among the principals', (stack, fn) => SecretPolicy.restrictToPrincipals([appRole(stack), fn.role])],
    ['its grantPrincipal among the principals', (stack, fn) => SecretPolicy.restrictToPrincipals([appRole(stack), fn.grantPrincipal])],
    ['in exemptPrincipals', (stack, fn) => SecretPolicy.restrictToPrincipals([appRole(stack)], { exemptPrincipals: [fn.role] })],
  ])('the function\'s role %s passes without a warning', (_name, preset) => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const rotation = new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    SecretPolicy.applyTo(s, preset(stack, rotation.rotationFunction as RotationFunction));
    expect(synthErrors(stack)).toBe('');
    expect(warnings(stack, RESTRICT_WARNING)).toEqual([]);
  });

  test.each<[string, iam.IPrincipal]>([
    ['an ARN without wildcards', new iam.ArnPrincipal('arn:aws:iam::111111111111:role/app')],
    ['an account (its root user)', new iam.AccountPrincipal('111111111111')],
  ])('%s cannot be the function\'s generated role: refused', (_name, principal) => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    SecretPolicy.applyTo(s, SecretPolicy.restrictToPrincipals([principal]));
    expect(synthErrors(stack)).toMatch(/SecretPolicy.restrictToPrincipals on the secret Test\/Secret denies Secrets Manager/);
  });

  test.each<[string, iam.IPrincipal]>([
    ['a wildcard ARN', new iam.ArnPrincipal('arn:aws:iam::111111111111:role/Test-*')],
    ['an imported ARN (a token)', new iam.ArnPrincipal(Fn.importValue('platform-rotation-role-arn'))],
  ])('%s may or may not match the function\'s role: a warning that names restrictToPrincipals', (_name, principal) => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    SecretPolicy.applyTo(s, SecretPolicy.restrictToPrincipals([principal]));
    expectUndecided(stack, RESTRICT_WARNING, 'restrictToPrincipals');
  });

  test('alternating users: a restricted master secret must let the function read it too', () => {
    const stack = testStack();
    const { master } = alternatingUsers(stack);
    SecretPolicy.applyTo(master, SecretPolicy.restrictToPrincipals([appRole(stack)]));
    expect(synthErrors(stack)).toMatch(/SecretPolicy.restrictToPrincipals on the master secret Test\/Master denies Secrets Manager to the rotation function Test\/RotationFunction-postgres-multi-user-/);
  });

  test('alternating users: a master secret restricted to the function\'s role passes', () => {
    const stack = testStack();
    const { master, rotation } = alternatingUsers(stack);
    SecretPolicy.applyTo(master, SecretPolicy.restrictToPrincipals([(rotation.rotationFunction as RotationFunction).role]));
    expect(synthErrors(stack)).toBe('');
  });
});

describe('SecretPolicy.denyOutsideVpcEndpoints and the rotation function', () => {
  test('a function outside any VPC is refused: its calls never come through an endpoint', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpoints([secretsManagerEndpoint(stack, importedVpc(stack))]));
    expect(synthErrors(stack)).toMatch(/\[Test\/Rotation\] SecretRotation: SecretPolicy.denyOutsideVpcEndpoints on the secret Test\/Secret denies Secrets Manager to the rotation function Test\/RotationFunction-postgres-single-user-[0-9a-f]+: it is not in a VPC, .*rotationFunctionOptions.vpc.*exemptPrincipals/);
  });

  test('a function outside any VPC is refused for endpoints known only by id, too', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-0123456789abcdef0']));
    expect(synthErrors(stack)).toMatch(/denyOutsideVpcEndpoints on the secret Test\/Secret denies .*: it is not in a VPC, so its calls never come through the endpoints \(vpce-0123456789abcdef0\)/);
  });

  test('a function in another VPC than the endpoints is refused', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const databases = new ec2.Vpc(stack, 'Databases', { maxAzs: 1, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const applications = new ec2.Vpc(stack, 'Applications', { maxAzs: 1, subnetConfiguration: [{ name: 'app', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    secretsManagerEndpoint(stack, databases, 'DatabasesEndpoint');
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE, rotationFunctionOptions: { vpc: databases } });
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpoints([secretsManagerEndpoint(stack, applications, 'ApplicationsEndpoint')]));
    expect(synthErrors(stack)).toMatch(/denyOutsideVpcEndpoints on the secret Test\/Secret denies .*: none of the endpoints is a Secrets Manager endpoint of its VPC/);
  });

  test('an endpoint of another service (KMS) in the function\'s VPC is refused', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const vpc = importedVpc(stack);
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE, rotationFunctionOptions: { vpc } });
    const kms = new ec2.InterfaceVpcEndpoint(stack, 'Kms', { vpc, service: ec2.InterfaceVpcEndpointAwsService.KMS });
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpoints([kms]));
    expect(synthErrors(stack)).toMatch(/denyOutsideVpcEndpoints on the secret Test\/Secret denies .*: none of the endpoints is a Secrets Manager endpoint of its VPC/);
  });

  test.each<[string, (stack: Stack) => { vpc: ec2.IVpc; endpoint: ec2.IInterfaceVpcEndpoint }]>([
    ['an imported VPC', (stack) => {
      const vpc = importedVpc(stack);
      return { vpc, endpoint: secretsManagerEndpoint(stack, vpc) };
    }],
    ['a VPC of the app, with SecretsManagerEndpoints', (stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      return { vpc, endpoint: new SecretsManagerEndpoints(stack, 'Endpoints', { vpc }).secretsManagerEndpoint };
    }],
  ])('a function in the endpoint\'s VPC (%s) passes without a warning', (_name, network) => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const { vpc, endpoint } = network(stack);
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE, rotationFunctionOptions: { vpc } });
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpoints([endpoint]));
    expect(synthErrors(stack)).toBe('');
    expect(warnings(stack, ENDPOINT_WARNING)).toEqual([]);
  });

  test('a given RotationFunction is placed by its security group\'s VPC', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const vpc = importedVpc(stack);
    new SecretRotation(stack, 'Rotation', { secret: s, rotationFunction: RotationFunction.shared(stack, SINGLE, { vpc }) });
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpoints([secretsManagerEndpoint(stack, vpc)]));
    expect(synthErrors(stack)).toBe('');
    expect(warnings(stack, ENDPOINT_WARNING)).toEqual([]);
  });

  test('a function outside the VPC whose role is exempt passes', () => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const rotation = new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE });
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpoints([secretsManagerEndpoint(stack, importedVpc(stack))], {
      exemptPrincipals: [rotation.rotationFunction.grantPrincipal],
    }));
    expect(synthErrors(stack)).toBe('');
    expect(warnings(stack, ENDPOINT_WARNING)).toEqual([]);
  });

  test.each<[string, (stack: Stack, vpc: ec2.IVpc) => SecretPolicy]>([
    ['endpoints known only by id', () => SecretPolicy.denyOutsideVpcEndpointIds(['vpce-0123456789abcdef0'])],
    ['an endpoint without private DNS', (stack, vpc) => SecretPolicy.denyOutsideVpcEndpoints([
      secretsManagerEndpoint(stack, vpc, 'NoDns', { privateDnsEnabled: false }),
    ])],
  ])('a function in a VPC with %s: a warning that names denyOutsideVpcEndpoints', (_name, preset) => {
    const stack = testStack();
    const s = secret(stack, 'Secret', secretKey(stack));
    const vpc = importedVpc(stack);
    new SecretRotation(stack, 'Rotation', { secret: s, engine: SINGLE, rotationFunctionOptions: { vpc } });
    SecretPolicy.applyTo(s, preset(stack, vpc));
    expectUndecided(stack, ENDPOINT_WARNING, 'denyOutsideVpcEndpoints');
  });

  test('alternating users: the master secret\'s endpoints are checked too', () => {
    const stack = testStack();
    const { master } = alternatingUsers(stack);
    SecretPolicy.applyTo(master, SecretPolicy.denyOutsideVpcEndpoints([secretsManagerEndpoint(stack, importedVpc(stack))]));
    expect(synthErrors(stack)).toMatch(/denyOutsideVpcEndpoints on the master secret Test\/Master denies Secrets Manager to the rotation function .*: it is not in a VPC/);
  });

  test('a secret and function in different stacks are checked in the rotation\'s stack', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const team = new Stack(app, 'Team');
    const fn = RotationFunction.shared(platform, SINGLE);
    const s = new secretsmanager.Secret(team, 'Secret', { encryptionKey: secretKey(team) });
    new SecretRotation(s, 'Rotation', { secret: s, rotationFunction: fn });
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpointIds(['vpce-0123456789abcdef0']));
    expect(() => app.synth()).toThrow(/\[Team\/Secret\/Rotation\] SecretRotation: SecretPolicy.denyOutsideVpcEndpoints on the secret Team\/Secret denies Secrets Manager to the rotation function Platform\/RotationFunction-postgres-single-user-[0-9a-f]+: it is not in a VPC/);
  });
});
