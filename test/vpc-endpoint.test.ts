import { App, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describeFindings, nagFindings } from './nag';
import {
  RotationEngine,
  RotationFunction,
  SecretPolicy,
  SecretsManagerEndpoints,
  SecretsManagerEndpointsProps,
} from '../src';
import { ACCOUNT, importedVpc, secret, secretKey, testStack } from './rotation/fixtures';

const SUBNETS = ['subnet-11111111', 'subnet-22222222'];

/** `com.amazonaws.<region>.<service>` as an environment-agnostic stack renders it. */
function serviceName(service: string): object {
  return { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] };
}

function endpointsOf(template: Template): any[] {
  return Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((r: any) => r.Properties);
}

function endpointFor(template: Template, service: string): any {
  const found = endpointsOf(template).filter((p) => JSON.stringify(p.ServiceName) === JSON.stringify(serviceName(service)));
  expect(found).toHaveLength(1);
  return found[0];
}

function onlyId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0];
}

interface IngressRule {
  readonly group: unknown;
  readonly source: unknown;
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
}

function ingressRule(group: unknown, r: any): IngressRule {
  const source = r.CidrIp ?? r.CidrIpv6 ?? r.SourcePrefixListId ?? r.SourceSecurityGroupId;
  return { group, source, protocol: r.IpProtocol, from: r.FromPort, to: r.ToPort };
}

/** Every ingress rule of the template, inline or separate; `group` is the logical id (or the id of an imported group). */
function ingressRules(template: Template): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const [id, sg] of Object.entries<any>(template.findResources('AWS::EC2::SecurityGroup'))) {
    rules.push(...(sg.Properties.SecurityGroupIngress ?? []).map((r: any) => ingressRule(id, r)));
  }
  for (const r of Object.values<any>(template.findResources('AWS::EC2::SecurityGroupIngress'))) {
    const groupId = r.Properties.GroupId;
    rules.push(ingressRule(groupId['Fn::GetAtt'] ? groupId['Fn::GetAtt'][0] : groupId, r.Properties));
  }
  return rules;
}

function endpoints(props: Partial<SecretsManagerEndpointsProps> = {}, stack = testStack()): { stack: Stack; endpoints: SecretsManagerEndpoints } {
  const vpc = props.vpc ?? importedVpc(stack);
  return { stack, endpoints: new SecretsManagerEndpoints(stack, 'Endpoints', { ...props, vpc }) };
}

describe('endpoints', () => {
  test('defaults: one Secrets Manager endpoint with private DNS in the isolated subnets, one per AZ', () => {
    const { stack, endpoints: e } = endpoints();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    const sg = onlyId(template, 'AWS::EC2::SecurityGroup');
    expect(endpointFor(template, 'secretsmanager')).toEqual(expect.objectContaining({
      VpcEndpointType: 'Interface',
      VpcId: 'vpc-vpc',
      PrivateDnsEnabled: true,
      SubnetIds: SUBNETS,
      SecurityGroupIds: [{ 'Fn::GetAtt': [sg, 'GroupId'] }],
    }));
    expect(e.kmsEndpoint).toBeUndefined();
    expect(e.logsEndpoint).toBeUndefined();
    expect(e.stsEndpoint).toBeUndefined();
    expect(e.endpoints).toEqual([e.secretsManagerEndpoint]);
    expect(stack.resolve(e.endpointIds)).toEqual([{ Ref: onlyId(template, 'AWS::EC2::VPCEndpoint') }]);
  });

  test.each([
    ['kms', 'kms', 'kmsEndpoint'],
    ['logs', 'logs', 'logsEndpoint'],
    ['sts', 'sts', 'stsEndpoint'],
  ] as const)('%s: true adds the %s endpoint, in the same subnets and security group', (option, service, accessor) => {
    const { stack, endpoints: e } = endpoints({ [option]: true });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    const sm = endpointFor(template, 'secretsmanager');
    const other = endpointFor(template, service);
    expect(other.PrivateDnsEnabled).toBe(true);
    expect(other.SubnetIds).toEqual(SUBNETS);
    expect(other.SecurityGroupIds).toEqual(sm.SecurityGroupIds);
    expect(e[accessor]).toBeDefined();
    expect(e.endpoints).toEqual([e.secretsManagerEndpoint, e[accessor]]);
  });

  test('every option on: four endpoints share ONE security group; endpointIds lists them, Secrets Manager first', () => {
    const { stack, endpoints: e } = endpoints({ kms: true, logs: true, sts: true });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 4);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    const sg = onlyId(template, 'AWS::EC2::SecurityGroup');
    for (const service of ['secretsmanager', 'kms', 'logs', 'sts']) {
      expect(endpointFor(template, service)).toEqual(expect.objectContaining({
        PrivateDnsEnabled: true,
        SubnetIds: SUBNETS,
        SecurityGroupIds: [{ 'Fn::GetAtt': [sg, 'GroupId'] }],
      }));
    }
    expect(e.endpoints).toEqual([e.secretsManagerEndpoint, e.kmsEndpoint, e.logsEndpoint, e.stsEndpoint]);
    expect(e.endpointIds).toHaveLength(4);
    expect(stack.resolve(e.endpointIds[0])).toEqual(stack.resolve(e.secretsManagerEndpoint.vpcEndpointId));
  });

  test('a stack with a region renders literal service names', () => {
    const stack = new Stack(new App(), 'Regional', { env: { account: '111111111111', region: 'eu-west-1' } });
    endpoints({ kms: true, logs: true, sts: true }, stack);
    const names = endpointsOf(Template.fromStack(stack)).map((p) => p.ServiceName).sort();
    expect(names).toEqual([
      'com.amazonaws.eu-west-1.kms',
      'com.amazonaws.eu-west-1.logs',
      'com.amazonaws.eu-west-1.secretsmanager',
      'com.amazonaws.eu-west-1.sts',
    ]);
  });

  test('the Secrets Manager endpoint feeds SecretPolicy.denyOutsideVpcEndpoints', () => {
    const { stack, endpoints: e } = endpoints();
    const s = secret(stack, 'Secret', secretKey(stack));
    SecretPolicy.applyTo(s, SecretPolicy.denyOutsideVpcEndpoints([e.secretsManagerEndpoint]));
    SecretPolicy.denyOutsideVpcEndpointIds(e.endpointIds);
    const template = Template.fromStack(stack);
    const endpointRef = { Ref: onlyId(template, 'AWS::EC2::VPCEndpoint') };
    const policy = Object.values<any>(template.findResources('AWS::SecretsManager::ResourcePolicy'))[0];
    expect(JSON.stringify(policy.Properties.ResourcePolicy)).toContain(JSON.stringify(endpointRef));
  });
});

describe('security group', () => {
  test('a new group without ingress and without egress (aws-cdk-lib\'s match-nothing rule) by default', () => {
    const { stack } = endpoints();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-vpc',
      GroupDescription: 'Interface VPC endpoints of AWS APIs (cdk-secrets-platform): HTTPS from named clients only, no egress',
      SecurityGroupEgress: [{ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 }],
      SecurityGroupIngress: Match.absent(),
    });
    expect(ingressRules(template)).toEqual([]);
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  test('allowFromPeers: TCP 443 only, only from the given networks', () => {
    const { stack } = endpoints({
      allowFromPeers: [ec2.Peer.ipv4('10.0.0.0/16'), ec2.Peer.ipv6('2001:db8::/56'), ec2.Peer.prefixList('pl-12345678')],
    });
    const template = Template.fromStack(stack);
    const sg = onlyId(template, 'AWS::EC2::SecurityGroup');
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ CidrIp: '10.0.0.0/16', Description: 'HTTPS to the interface VPC endpoints from 10.0.0.0/16' })]),
    });
    expect(ingressRules(template)).toEqual([
      { group: sg, source: '10.0.0.0/16', protocol: 'tcp', from: 443, to: 443 },
      { group: sg, source: '2001:db8::/56', protocol: 'tcp', from: 443, to: 443 },
      { group: sg, source: 'pl-12345678', protocol: 'tcp', from: 443, to: 443 },
    ]);
  });

  test('a token CIDR (the CIDR of a new VPC) is accepted', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    endpoints({ vpc, allowFromPeers: [ec2.Peer.ipv4(vpc.vpcCidrBlock)] }, stack);
    const template = Template.fromStack(stack);
    expect(ingressRules(template).map((r) => r.source)).toEqual([{ 'Fn::GetAtt': [onlyId(template, 'AWS::EC2::VPC'), 'CidrBlock'] }]);
  });

  test('allowFrom(rotationFunction) admits the function\'s security group on 443 (and opens its egress to the endpoints)', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    const e = new SecretsManagerEndpoints(stack, 'Endpoints', { vpc });
    const rotationFunction = RotationFunction.shared(stack, RotationEngine.POSTGRES_SINGLE_USER, { vpc });
    e.allowFrom(rotationFunction);
    const template = Template.fromStack(stack);
    const groups = Object.keys(template.findResources('AWS::EC2::SecurityGroup'));
    const endpointSg = groups.find((g) => g.startsWith('EndpointsSecurityGroup'))!;
    const functionSg = groups.find((g) => g.startsWith('RotationFunction'))!;
    expect(ingressRules(template)).toEqual([
      { group: endpointSg, source: { 'Fn::GetAtt': [functionSg, 'GroupId'] }, protocol: 'tcp', from: 443, to: 443 },
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [functionSg, 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [endpointSg, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
    });
  });

  test('allowFrom in props admits connectables such as security groups', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    const client = new ec2.SecurityGroup(stack, 'Client', { vpc, allowAllOutbound: false });
    new SecretsManagerEndpoints(stack, 'Endpoints', { vpc, allowFrom: [client] });
    const template = Template.fromStack(stack);
    const clientId = stack.getLogicalId(client.node.defaultChild as ec2.CfnSecurityGroup);
    expect(ingressRules(template)).toEqual([
      expect.objectContaining({ source: { 'Fn::GetAtt': [clientId, 'GroupId'] }, protocol: 'tcp', from: 443, to: 443 }),
    ]);
  });

  test('allowFrom of a rotation function outside a VPC fails with the reason', () => {
    const { stack, endpoints: e } = endpoints();
    const outside = RotationFunction.shared(stack, RotationEngine.POSTGRES_SINGLE_USER);
    expect(() => e.allowFrom(outside)).toThrow(/SecretsManagerEndpoints\.allowFrom: the client has no network connections: .*not in a VPC/);
  });

  test('a given security group is used by every endpoint and receives the ingress rules; no group is created', () => {
    const stack = testStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Existing', 'sg-0123456789abcdef0');
    const { endpoints: e } = endpoints({ securityGroup: sg, kms: true, allowFromPeers: [ec2.Peer.ipv4('10.1.0.0/16')] }, stack);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    for (const p of endpointsOf(template)) {
      expect(p.SecurityGroupIds).toEqual(['sg-0123456789abcdef0']);
    }
    expect(ingressRules(template)).toEqual([{ group: 'sg-0123456789abcdef0', source: '10.1.0.0/16', protocol: 'tcp', from: 443, to: 443 }]);
    expect(e.securityGroup).toBe(sg);
    expect(e.connections.securityGroups).toEqual([sg]);
  });
});

describe('clients in other stacks', () => {
  type Admit = (platform: Stack, vpc: ec2.IVpc, client: ec2.SecurityGroup) => void;

  /** Endpoints in a platform stack, a client security group in an application stack, admitted as `admit` says. */
  function crossStack(admit: Admit) {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const application = new Stack(app, 'Application');
    const vpc = importedVpc(platform);
    const client = new ec2.SecurityGroup(application, 'Client', { vpc, allowAllOutbound: false });
    admit(platform, vpc, client);
    app.synth();
    return { platform, application };
  }

  test.each<[string, Admit]>([
    ['allowFrom()', (platform, vpc, client) => new SecretsManagerEndpoints(platform, 'Endpoints', { vpc }).allowFrom(client)],
    ['the allowFrom property', (platform, vpc, client) => new SecretsManagerEndpoints(platform, 'Endpoints', { vpc, allowFrom: [client] })],
  ])('%s puts both rules in the client\'s stack, which depends on the endpoints\' stack and not the reverse', (_name, admit) => {
    const { platform, application } = crossStack(admit);
    expect(application.dependencies).toEqual([platform]);
    expect(platform.dependencies).toEqual([]);
    const platformTemplate = Template.fromStack(platform);
    platformTemplate.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    platformTemplate.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    const endpointSg = { 'Fn::ImportValue': expect.stringMatching(/^Platform:ExportsOutputFnGetAttEndpointsSecurityGroup.*GroupId/) };
    const appTemplate = Template.fromStack(application);
    const clientId = application.getLogicalId(application.node.findChild('Client').node.defaultChild as ec2.CfnSecurityGroup);
    expect(Object.values(appTemplate.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties)).toEqual([{
      GroupId: endpointSg,
      SourceSecurityGroupId: { 'Fn::GetAtt': [clientId, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      Description: 'HTTPS to the interface VPC endpoints',
    }]);
    expect(Object.values(appTemplate.findResources('AWS::EC2::SecurityGroupEgress')).map((r: any) => r.Properties)).toEqual([{
      GroupId: { 'Fn::GetAtt': [clientId, 'GroupId'] },
      DestinationSecurityGroupId: endpointSg,
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      Description: 'HTTPS to the interface VPC endpoints',
    }]);
  });

  test('a rotation function in an application stack is admitted without a cycle', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const application = new Stack(app, 'Application');
    const vpc = importedVpc(platform);
    const e = new SecretsManagerEndpoints(platform, 'Endpoints', { vpc });
    e.allowFrom(RotationFunction.shared(application, RotationEngine.POSTGRES_SINGLE_USER, { vpc }));
    expect(() => app.synth()).not.toThrow();
    expect(application.dependencies).toEqual([platform]);
    expect(platform.dependencies).toEqual([]);
  });
});

describe('open networks are refused', () => {
  test.each<[string, (vpc: ec2.IVpc) => Partial<SecretsManagerEndpointsProps>, RegExp]>([
    ['allowFromPeers anyIpv4', () => ({ allowFromPeers: [ec2.Peer.anyIpv4()] }), /allowFromPeers\[0\] must not admit every address .*got 0\.0\.0\.0\/0/],
    ['allowFromPeers anyIpv6', () => ({ allowFromPeers: [ec2.Peer.ipv4('10.0.0.0/8'), ec2.Peer.anyIpv6()] }), /allowFromPeers\[1\] .*got ::\/0/],
    ['allowFromPeers ipv4 /0', () => ({ allowFromPeers: [ec2.Peer.ipv4('0.0.0.0/0')] }), /allowFromPeers\[0\]/],
    ['allowFromPeers 10.0.0.0/0', () => ({ allowFromPeers: [ec2.Peer.ipv4('10.0.0.0/0')] }), /allowFromPeers\[0\] .*got 10\.0\.0\.0\/0/],
    ['allowFrom a peer', () => ({ allowFrom: [ec2.Peer.anyIpv4()] }), /allowFrom\[0\] must not admit every address/],
  ])('%s', (_name, props, error) => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    expect(() => new SecretsManagerEndpoints(stack, 'Endpoints', { vpc, ...props(vpc) })).toThrow(error);
  });

  test('the allowFrom method refuses open peers', () => {
    const { endpoints: e } = endpoints();
    expect(() => e.allowFrom(ec2.Peer.anyIpv6())).toThrow(/SecretsManagerEndpoints: allowFrom must not admit every address .*::\/0/);
    expect(() => e.allowFrom(ec2.Peer.anyIpv4())).toThrow(/allowFrom must not admit every address .*0\.0\.0\.0\/0/);
  });

  test('an open rule added through connections fails at synth (own security group)', () => {
    const { stack, endpoints: e } = endpoints();
    e.connections.allowDefaultPortFromAnyIpv4();
    expect(() => Template.fromStack(stack)).toThrow(/security group .*Endpoints\/SecurityGroup admits 0\.0\.0\.0\/0/);
  });

  test('a connectable holding an open network fails at synth', () => {
    const { stack } = endpoints({ allowFrom: [new ec2.Connections({ peer: ec2.Peer.anyIpv4() })] });
    expect(() => Template.fromStack(stack)).toThrow(/security group Test\/Endpoints\/SecurityGroup admits 0\.0\.0\.0\/0/);
  });

  test('an open rule added to a given security group fails at synth', () => {
    const stack = testStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Existing', 'sg-0123456789abcdef0');
    const { endpoints: e } = endpoints({ securityGroup: sg }, stack);
    e.connections.allowFrom(ec2.Peer.anyIpv6(), ec2.Port.tcp(443));
    expect(() => Template.fromStack(stack)).toThrow(/security group Test\/Existing admits ::\/0/);
  });
});

describe('endpoint policy', () => {
  test('every endpoint allows all actions for principals of this account only (Principal * with aws:PrincipalAccount)', () => {
    const { stack } = endpoints({ kms: true, logs: true, sts: true });
    const template = Template.fromStack(stack);
    const accountStatement = {
      Sid: 'AllowPrincipalsOfThisAccount',
      Effect: 'Allow',
      Principal: '*',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } },
    };
    for (const service of ['secretsmanager', 'kms', 'logs']) {
      expect(endpointFor(template, service).PolicyDocument).toEqual({ Version: '2012-10-17', Statement: [accountStatement] });
    }
    expect(endpointFor(template, 'sts').PolicyDocument.Statement).toEqual([
      accountStatement,
      {
        Sid: 'AllowFederatedCallersToAssumeRolesOfThisAccount',
        Effect: 'Allow',
        Principal: '*',
        Action: ['sts:AssumeRoleWithSAML', 'sts:AssumeRoleWithWebIdentity'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:ResourceAccount': ACCOUNT } },
      },
    ]);
  });

  test('a stack with an account names it literally', () => {
    const stack = new Stack(new App(), 'Account', { env: { account: '111111111111', region: 'eu-west-1' } });
    endpoints({}, stack);
    expect(endpointsOf(Template.fromStack(stack))[0].PolicyDocument.Statement[0].Condition)
      .toEqual({ StringEquals: { 'aws:PrincipalAccount': '111111111111' } });
  });

  test('organizationId limits every endpoint to the organization (aws:PrincipalOrgID) instead of the account', () => {
    const { stack, endpoints: e } = endpoints({ kms: true, logs: true, sts: true, organizationId: 'o-a1b2c3d4e5' });
    const template = Template.fromStack(stack);
    const orgStatement = {
      Sid: 'AllowPrincipalsOfTheOrganization',
      Effect: 'Allow',
      Principal: '*',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
    };
    for (const service of ['secretsmanager', 'kms', 'logs']) {
      expect(endpointFor(template, service).PolicyDocument.Statement).toEqual([orgStatement]);
    }
    expect(endpointFor(template, 'sts').PolicyDocument.Statement).toEqual([
      orgStatement,
      expect.objectContaining({
        Sid: 'AllowFederatedCallersToAssumeRolesOfTheOrganization',
        Action: ['sts:AssumeRoleWithSAML', 'sts:AssumeRoleWithWebIdentity'],
        Condition: { StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } },
      }),
    ]);
    expect(JSON.stringify(template.toJSON())).not.toContain('aws:PrincipalAccount');
    expect(e.organizationId).toBe('o-a1b2c3d4e5');
  });
});

describe('subnets', () => {
  const vpcWith = (stack: Stack, groups: Array<[string, ec2.SubnetType]>) => new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: groups.some(([, t]) => t === ec2.SubnetType.PRIVATE_WITH_EGRESS) ? 1 : 0,
    subnetConfiguration: groups.map(([name, subnetType]) => ({ name, subnetType, cidrMask: 24 })),
  });
  const subnetRefs = (stack: Stack, vpc: ec2.Vpc, selection: ec2.SubnetSelection) =>
    stack.resolve(vpc.selectSubnets(selection).subnetIds);

  test('default: the private subnets with egress when the VPC has them, one per AZ', () => {
    const stack = testStack();
    const vpc = vpcWith(stack, [['public', ec2.SubnetType.PUBLIC], ['private', ec2.SubnetType.PRIVATE_WITH_EGRESS], ['isolated', ec2.SubnetType.PRIVATE_ISOLATED]]);
    endpoints({ vpc }, stack);
    const subnets = endpointFor(Template.fromStack(stack), 'secretsmanager').SubnetIds;
    expect(subnets).toHaveLength(2);
    expect(subnets).toEqual(subnetRefs(stack, vpc, { subnetGroupName: 'private' }));
  });

  test('default: the isolated subnets when the VPC has no private subnets with egress', () => {
    const stack = testStack();
    const vpc = vpcWith(stack, [['public', ec2.SubnetType.PUBLIC], ['isolated', ec2.SubnetType.PRIVATE_ISOLATED]]);
    endpoints({ vpc }, stack);
    expect(endpointFor(Template.fromStack(stack), 'secretsmanager').SubnetIds).toEqual(subnetRefs(stack, vpc, { subnetGroupName: 'isolated' }));
  });

  test('a selection matching several subnets per AZ uses one per AZ', () => {
    const stack = testStack();
    const vpc = vpcWith(stack, [['data', ec2.SubnetType.PRIVATE_ISOLATED], ['apps', ec2.SubnetType.PRIVATE_ISOLATED]]);
    endpoints({ vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }, stack);
    const subnets = endpointFor(Template.fromStack(stack), 'secretsmanager').SubnetIds;
    expect(subnets).toHaveLength(2);
  });

  test('an explicit selection is honoured', () => {
    const stack = testStack();
    const vpc = vpcWith(stack, [['data', ec2.SubnetType.PRIVATE_ISOLATED], ['apps', ec2.SubnetType.PRIVATE_ISOLATED]]);
    endpoints({ vpc, subnets: { subnetGroupName: 'apps' } }, stack);
    expect(endpointFor(Template.fromStack(stack), 'secretsmanager').SubnetIds).toEqual(subnetRefs(stack, vpc, { subnetGroupName: 'apps' }));
  });
});

describe('validation', () => {
  test.each<[string, (stack: Stack) => Partial<SecretsManagerEndpointsProps>, RegExp]>([
    ['organizationId too short', () => ({ organizationId: 'o-abc' }),
      /organizationId must be 'o-' followed by 10 to 32 lower-case letters or digits \(o-\[a-z0-9\]\{10,32\}\), got 'o-abc'/],
    ['organizationId upper case', () => ({ organizationId: 'o-A1B2C3D4E5' }), /organizationId must be .*got 'o-A1B2C3D4E5'/],
    ['organizationId without o-', () => ({ organizationId: 'r-a1b2c3d4e5' }), /organizationId must be .*got 'r-a1b2c3d4e5'/],
    ['organizationId too long', () => ({ organizationId: `o-${'a'.repeat(33)}` }), /organizationId must be .*o-a{33}'/],
    ['organizationId account id', () => ({ organizationId: '111111111111' }), /organizationId must be/],
    ['organizationId token', () => ({ organizationId: Token.asString({ Ref: 'OrgId' }) }), /organizationId must be a literal value, not a token/],
    ['subnets: unknown group', () => ({ subnets: { subnetGroupName: 'nope' } }), /subnets selects no subnets of the VPC Test\/Vpc: .*nope/],
    ['subnets: unknown type', () => ({ subnets: { subnetType: ec2.SubnetType.PUBLIC } }), /subnets selects no subnets of the VPC Test\/Vpc/],
    ['subnets: no subnet in the zones', () => ({ subnets: { availabilityZones: ['eu-west-1a'] } }), /subnets selects no subnets of the VPC Test\/Vpc; select 1 or more subnets/],
  ])('%s', (_name, props, error) => {
    const stack = testStack();
    expect(() => endpoints(props(stack), stack)).toThrow(error);
  });

  test('a VPC with only public subnets needs an explicit selection', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
    expect(() => endpoints({ vpc }, stack)).toThrow(/the VPC Test\/Vpc has no private or isolated subnets; pass subnets/);
    expect(() => new SecretsManagerEndpoints(stack, 'Public', { vpc, subnets: { subnetType: ec2.SubnetType.PUBLIC } })).not.toThrow();
  });

  test('another private-DNS endpoint for the same service in the same VPC fails at synth', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    endpoints({ vpc, kms: true }, stack);
    vpc.addInterfaceEndpoint('Kms', { service: ec2.InterfaceVpcEndpointAwsService.KMS });
    expect(() => Template.fromStack(stack)).toThrow(/Test\/Vpc\/Kms\/Resource is another interface endpoint with private DNS for the same service in the same VPC as Test\/Endpoints\/Kms/);
  });

  test('two SecretsManagerEndpoints in one VPC fail at synth', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    endpoints({ vpc }, stack);
    new SecretsManagerEndpoints(stack, 'Again', { vpc });
    expect(() => Template.fromStack(stack)).toThrow(/Test\/Again\/SecretsManager\/Resource is another interface endpoint .* as Test\/Endpoints\/SecretsManager/);
  });

  test('endpoints for other services, other VPCs or without private DNS are fine', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    endpoints({ vpc }, stack);
    vpc.addInterfaceEndpoint('Ecr', { service: ec2.InterfaceVpcEndpointAwsService.ECR });
    vpc.addInterfaceEndpoint('NoDns', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, privateDnsEnabled: false });
    new SecretsManagerEndpoints(stack, 'OtherEndpoints', { vpc: importedVpc(stack, 'Other', ['subnet-33333333']) });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('cdk-nag: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1, Serverless', () => {
  test('defaults report nothing', () => {
    const { stack } = endpoints();
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('every option on, with a rotation function admitted, reports nothing', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    const client = new ec2.SecurityGroup(stack, 'Client', { vpc, allowAllOutbound: false });
    const e = new SecretsManagerEndpoints(stack, 'Endpoints', {
      vpc,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      kms: true,
      logs: true,
      sts: true,
      organizationId: 'o-a1b2c3d4e5',
      allowFrom: [client],
      allowFromPeers: [ec2.Peer.ipv4('10.0.0.0/16'), ec2.Peer.ipv6('2001:db8::/56')],
    });
    e.allowFrom(RotationFunction.shared(stack, RotationEngine.POSTGRES_SINGLE_USER, { vpc }));
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });

  test('a given security group reports nothing', () => {
    const stack = testStack();
    const vpc = importedVpc(stack);
    const sg = new ec2.SecurityGroup(stack, 'Existing', { vpc, allowAllOutbound: false });
    new SecretsManagerEndpoints(stack, 'Endpoints', { vpc, securityGroup: sg, kms: true, allowFromPeers: [ec2.Peer.ipv4('10.0.0.0/16')] });
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });
});
