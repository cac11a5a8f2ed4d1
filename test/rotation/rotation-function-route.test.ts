import { Annotations as CoreAnnotations, App, ContextProvider, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { importedVpc, testStack } from './fixtures';
import { RotationEngine, RotationFunction, RotationFunctionOptions, SecretsManagerEndpoints } from '../../src';

const SINGLE = RotationEngine.POSTGRES_SINGLE_USER;
const WARNING_ID = 'cdk-secrets-platform:rotationFunctionMayNotReachSecretsManager';

/** A VPC of this app without NAT gateways: its isolated subnets have no route out. */
function isolatedVpc(stack: Stack, id = 'Vpc'): ec2.Vpc {
  return new ec2.Vpc(stack, id, {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
}

function rotationFunction(stack: Stack, options: RotationFunctionOptions): RotationFunction {
  return new RotationFunction(stack, 'Rotation', { engine: SINGLE, ...options });
}

/** Warnings of the function's id on the stack (synthesizes the app). */
function routeWarnings(stack: Stack): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(WARNING_ID)).map((m) => String(m.entry.data));
}

describe('a VPC of this app: isolated subnets without an endpoint are refused at synth', () => {
  test('default subnets: the error names vpc and vpcSubnets and how to fix it', () => {
    const stack = testStack();
    rotationFunction(stack, { vpc: isolatedVpc(stack) });
    expect(() => Template.fromStack(stack)).toThrow(new RegExp(
      '\\[Test/Rotation\\] RotationFunction: the subnets selected by default \\(vpcSubnets not given\\) in vpc Test/Vpc include isolated '
      + 'subnets \\(2 of 2: no route to a NAT gateway or an internet gateway\\) and no Secrets Manager interface endpoint of that VPC is '
      + 'defined in the app: the function could never reach Secrets Manager.*new SecretsManagerEndpoints.*set vpcSubnets to subnets with '
      + 'a NAT route'));
  });

  test('given subnets: the error says vpcSubnets selects them', () => {
    const stack = testStack();
    const vpc = isolatedVpc(stack);
    rotationFunction(stack, { vpc, vpcSubnets: { subnets: [vpc.isolatedSubnets[0]] } });
    expect(() => Template.fromStack(stack)).toThrow(/the subnets vpcSubnets selects in vpc Test\/Vpc include isolated subnets \(1 of 1/);
  });

  test('an endpoint for another service does not count', () => {
    const stack = testStack();
    const vpc = isolatedVpc(stack);
    vpc.addInterfaceEndpoint('Kms', { service: ec2.InterfaceVpcEndpointAwsService.KMS });
    rotationFunction(stack, { vpc });
    expect(() => Template.fromStack(stack)).toThrow(/no Secrets Manager interface endpoint of that VPC is defined in the app/);
  });

  test('an endpoint in another VPC does not count', () => {
    const stack = testStack();
    new SecretsManagerEndpoints(stack, 'Endpoints', { vpc: isolatedVpc(stack, 'Other') });
    rotationFunction(stack, { vpc: isolatedVpc(stack) });
    expect(() => Template.fromStack(stack)).toThrow(/in vpc Test\/Vpc include isolated subnets/);
  });
});

describe('a Secrets Manager endpoint with private DNS in the VPC, anywhere in the app, is enough', () => {
  test('SecretsManagerEndpoints declared after the function', () => {
    const stack = testStack();
    const vpc = isolatedVpc(stack);
    const fn = rotationFunction(stack, { vpc });
    new SecretsManagerEndpoints(stack, 'Endpoints', { vpc, allowFrom: [fn] });
    expect(routeWarnings(stack)).toEqual([]);
  });

  test('an interface endpoint added with vpc.addInterfaceEndpoint', () => {
    const stack = testStack();
    const vpc = isolatedVpc(stack);
    rotationFunction(stack, { vpc });
    vpc.addInterfaceEndpoint('SecretsManager', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER });
    expect(routeWarnings(stack)).toEqual([]);
  });

  test('the FIPS endpoint', () => {
    const stack = testStack();
    const vpc = isolatedVpc(stack);
    rotationFunction(stack, { vpc });
    vpc.addInterfaceEndpoint('SecretsManager', {
      service: new ec2.InterfaceVpcEndpointService('com.amazonaws.us-east-1.secretsmanager-fips', 443),
      privateDnsEnabled: true,
    });
    expect(routeWarnings(stack)).toEqual([]);
  });

  test('endpoints in another stack (a platform stack) for the function\'s VPC', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const team = new Stack(app, 'Team');
    const vpc = isolatedVpc(platform);
    new SecretsManagerEndpoints(platform, 'Endpoints', { vpc });
    rotationFunction(team, { vpc });
    expect(routeWarnings(team)).toEqual([]);
  });

  test('an imported VPC with endpoints in the app for the same VPC id, imported again elsewhere', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const team = new Stack(app, 'Team');
    new SecretsManagerEndpoints(platform, 'Endpoints', { vpc: importedVpc(platform) });
    rotationFunction(team, { vpc: importedVpc(team) });
    expect(routeWarnings(team)).toEqual([]);
  });
});

describe('subnets with a route out need nothing', () => {
  test('private subnets with a NAT gateway (the default of ec2.Vpc)', () => {
    const stack = testStack();
    rotationFunction(stack, { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }) });
    expect(routeWarnings(stack)).toEqual([]);
  });

  test('private subnets of an imported VPC', () => {
    const stack = testStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-1', vpcCidrBlock: '10.0.0.0/16', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'], privateSubnetRouteTableIds: ['rtb-1'],
    });
    rotationFunction(stack, { vpc });
    expect(routeWarnings(stack)).toEqual([]);
  });
});

describe('where it might work, a warning that can be acknowledged', () => {
  test('isolated subnets of an imported VPC (fromVpcAttributes) without an endpoint in the app', () => {
    const stack = testStack();
    const fn = rotationFunction(stack, { vpc: importedVpc(stack) });
    Annotations.fromStack(stack).hasWarning(`/Test/${fn.node.id}/Function`, Match.stringLikeRegexp(
      '^RotationFunction: the subnets selected by default \\(vpcSubnets not given\\) in vpc Test/Vpc include isolated subnets .*'
      + 'the vpc is imported, so an endpoint or a route to Secrets Manager may exist outside this app.*vpcSubnets.*'
      + `\\[ack: ${WARNING_ID}\\]$`));
  });

  test('isolated subnets of a VPC found with Vpc.fromLookup', () => {
    const env = { account: '111111111111', region: 'us-east-1' };
    // the key Vpc.fromLookup reads, computed on a throwaway stack of the same environment
    const { key } = ContextProvider.getKey(new Stack(new App(), 'Test', { env }), {
      provider: cxschema.ContextProvider.VPC_PROVIDER,
      props: { filter: { 'vpc-id': 'vpc-0123' }, returnAsymmetricSubnets: true, returnVpnGateways: undefined, subnetGroupNameTag: undefined },
    });
    const lookedUp = {
      vpcId: 'vpc-0123',
      vpcCidrBlock: '10.0.0.0/16',
      availabilityZones: [],
      subnetGroups: [{
        name: 'Isolated',
        type: 'Isolated',
        subnets: [{ subnetId: 'subnet-0123', cidr: '10.0.0.0/24', availabilityZone: 'us-east-1a', routeTableId: 'rtb-0123' }],
      }],
    };
    const stack = new Stack(new App({ context: { [key]: lookedUp } }), 'Test', { env });
    const vpc = ec2.Vpc.fromLookup(stack, 'Vpc', { vpcId: 'vpc-0123' });
    expect(vpc.isolatedSubnets.map((s) => s.subnetId)).toEqual(['subnet-0123']);
    rotationFunction(stack, { vpc });
    expect(routeWarnings(stack)).toEqual([expect.stringMatching(/in vpc Test\/Vpc include isolated subnets .* the vpc is imported/)]);
  });

  test('nothing while Vpc.fromLookup has not looked up yet (the values are placeholders)', () => {
    const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
    rotationFunction(stack, { vpc: ec2.Vpc.fromLookup(stack, 'Vpc', { vpcId: 'vpc-0123' }), vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    expect(routeWarnings(stack)).toEqual([]);
  });

  test('isolated subnets of a VPC of this app to which the app adds routes (a transit gateway)', () => {
    const stack = testStack();
    const vpc = isolatedVpc(stack);
    for (const [i, subnet] of vpc.isolatedSubnets.entries()) {
      (subnet as ec2.Subnet).addRoute(`Tgw${i}`, { routerType: ec2.RouterType.TRANSIT_GATEWAY, routerId: 'tgw-0123', destinationCidrBlock: '10.0.0.0/8' });
    }
    rotationFunction(stack, { vpc });
    expect(routeWarnings(stack)).toEqual([expect.stringMatching(/the app adds routes to them \(for example to a transit gateway/)]);
  });

  test('an endpoint with private DNS disabled', () => {
    const stack = testStack();
    const vpc = isolatedVpc(stack);
    vpc.addInterfaceEndpoint('SecretsManager', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, privateDnsEnabled: false });
    rotationFunction(stack, { vpc });
    expect(routeWarnings(stack)).toEqual([expect.stringMatching(
      /the Secrets Manager interface endpoint Test\/Vpc\/SecretsManager\/Resource of that VPC has private DNS disabled/)]);
  });

  test('acknowledged on the rotation function, the warning is gone', () => {
    const stack = testStack();
    const fn = rotationFunction(stack, { vpc: importedVpc(stack) });
    CoreAnnotations.of(fn).acknowledgeWarning(WARNING_ID, 'the shared-services VPC has the endpoint');
    expect(routeWarnings(stack)).toEqual([]);
  });
});
