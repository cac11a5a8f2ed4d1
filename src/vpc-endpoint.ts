import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { assertLiteral } from './private/validation';

const OWNER = 'SecretsManagerEndpoints';
const HTTPS = ec2.Port.tcp(443);
const ORGANIZATION_ID_PATTERN = /^o-[a-z0-9]{10,32}$/;
/** STS actions of federated callers: they carry no `aws:PrincipalAccount` or `aws:PrincipalOrgID`. */
const FEDERATED_STS_ACTIONS = ['sts:AssumeRoleWithSAML', 'sts:AssumeRoleWithWebIdentity'];

/**
 * Properties of {@link SecretsManagerEndpoints}.
 */
export interface SecretsManagerEndpointsProps {
  /** The VPC whose subnets reach the services through the endpoints. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets for the endpoints' network interfaces, at most one per Availability Zone (the first matching subnet of
   * each zone is used). With private DNS, clients in every subnet of the VPC reach the endpoints, so one subnet per
   * zone serves the whole VPC.
   *
   * @default - the VPC's private subnets with egress if it has any, else its isolated subnets; one per Availability Zone
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Clients admitted to the endpoints on TCP 443, for example a `RotationFunction` placed in the VPC, a Lambda
   * function, an ECS service or a security group. Admit more later with `allowFrom()`.
   *
   * @default - none
   */
  readonly allowFrom?: ec2.IConnectable[];

  /**
   * Networks admitted to the endpoints on TCP 443, for example `ec2.Peer.ipv4(vpc.vpcCidrBlock)` or a prefix list.
   * `0.0.0.0/0` and `::/0` (`ec2.Peer.anyIpv4()`, `ec2.Peer.anyIpv6()`) are refused.
   *
   * @default - none
   */
  readonly allowFromPeers?: ec2.IPeer[];

  /**
   * Adds an endpoint for AWS KMS (`com.amazonaws.<region>.kms`).
   *
   * Needed only by clients that call KMS themselves (envelope encryption, `kms:Decrypt` of data keys, signing).
   * Reading a secret does not need it: Secrets Manager calls KMS on the caller's behalf, outside the VPC. The bundled
   * rotation functions use keys only through Secrets Manager and do not need it either.
   *
   * @default false
   */
  readonly kms?: boolean;

  /**
   * Adds an endpoint for Amazon CloudWatch Logs (`com.amazonaws.<region>.logs`).
   *
   * Lambda functions (the rotation functions included) do not need it: the Lambda service delivers their logs
   * outside the VPC. Needed by clients that call the CloudWatch Logs API from the subnets themselves: ECS tasks with
   * the `awslogs` log driver, the CloudWatch agent on EC2 instances, code calling `logs:PutLogEvents`.
   *
   * @default false
   */
  readonly logs?: boolean;

  /**
   * Adds an endpoint for AWS STS (`com.amazonaws.<region>.sts`, the regional STS endpoint).
   *
   * Lambda functions do not need it for their own role. Needed by clients that call STS from the subnets: cross-account
   * `AssumeRole`, EKS pods with IAM roles for service accounts (`AssumeRoleWithWebIdentity`), `GetCallerIdentity`.
   * Private DNS covers the regional name `sts.<region>.amazonaws.com` only; clients must use regional STS endpoints
   * (the default of AWS SDK for JavaScript v3 and of current SDKs).
   *
   * @default false
   */
  readonly sts?: boolean;

  /**
   * Limits the endpoint policies to principals of this AWS Organization (`aws:PrincipalOrgID`) instead of this
   * account (`aws:PrincipalAccount`): `o-` followed by 10 to 32 lower-case letters or digits.
   *
   * @default - principals of the stack's account only
   */
  readonly organizationId?: string;

  /**
   * The security group of the endpoints. The construct adds ingress rules for TCP 443 to it; its egress rules are left
   * as they are (the endpoints never open connections).
   *
   * @default - a new security group without egress and with ingress only from `allowFrom` and `allowFromPeers`
   */
  readonly securityGroup?: ec2.ISecurityGroup;
}

/**
 * Interface VPC endpoints so that private and isolated subnets reach AWS Secrets Manager (and optionally AWS KMS,
 * Amazon CloudWatch Logs and AWS STS) without a NAT gateway.
 *
 * - private DNS on every endpoint, so SDKs keep using the services' default host names;
 * - ONE security group shared by the endpoints, admitting TCP 443 only from the given clients and networks, never
 *   from `0.0.0.0/0` or `::/0` (checked again at synth, whoever added the rule), without egress;
 * - an endpoint policy on each endpoint allowing every action, but only to principals of this account
 *   (`aws:PrincipalAccount`) or of an organization (`aws:PrincipalOrgID`). A VPC endpoint policy never grants
 *   anything (IAM and resource policies still decide); it bounds what can pass through the endpoint. The principal is
 *   `*` with a condition because that is how an endpoint policy names "every identity of an account or organization":
 *   callers are role sessions whose ARNs are not known in advance, and an organization cannot be written in the
 *   `Principal` element at all. The STS endpoint also lets federated callers (`AssumeRoleWithWebIdentity`,
 *   `AssumeRoleWithSAML`, which carry no principal account) assume roles of the same account or organization
 *   (`aws:ResourceAccount`, `aws:ResourceOrgID`).
 *
 * Pass `secretsManagerEndpoint` to `SecretPolicy.denyOutsideVpcEndpoints([...])` to make the endpoint the only way
 * to a secret. Make resources that call Secrets Manager on creation (a rotation schedule rotates at once) depend
 * on this construct: `schedule.node.addDependency(endpoints)`.
 */
export class SecretsManagerEndpoints extends Construct implements ec2.IConnectable {
  /** The VPC of the endpoints. */
  public readonly vpc: ec2.IVpc;
  /** The security group shared by the endpoints. */
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The endpoints' network connections (default port TCP 443); prefer `allowFrom()`, which refuses open networks at once. */
  public readonly connections: ec2.Connections;
  /** The Secrets Manager endpoint (`com.amazonaws.<region>.secretsmanager`). */
  public readonly secretsManagerEndpoint: ec2.InterfaceVpcEndpoint;
  /** The KMS endpoint, with `kms: true`. */
  public readonly kmsEndpoint?: ec2.InterfaceVpcEndpoint;
  /** The CloudWatch Logs endpoint, with `logs: true`. */
  public readonly logsEndpoint?: ec2.InterfaceVpcEndpoint;
  /** The STS endpoint, with `sts: true`. */
  public readonly stsEndpoint?: ec2.InterfaceVpcEndpoint;
  /** The organization the endpoint policies admit, when given. */
  public readonly organizationId?: string;

  private readonly allEndpoints: ec2.InterfaceVpcEndpoint[] = [];

  constructor(scope: Construct, id: string, props: SecretsManagerEndpointsProps) {
    super(scope, id);
    this.vpc = props.vpc;

    if (props.organizationId !== undefined) {
      assertLiteral(OWNER, 'organizationId', props.organizationId);
      if (!ORGANIZATION_ID_PATTERN.test(props.organizationId)) {
        throw new Error(`${OWNER}: organizationId must be 'o-' followed by 10 to 32 lower-case letters or digits `
          + `(o-[a-z0-9]{10,32}), got '${props.organizationId}'`);
      }
      this.organizationId = props.organizationId;
    }
    (props.allowFromPeers ?? []).forEach((peer, i) => assertNotOpen(`allowFromPeers[${i}]`, peer));
    (props.allowFrom ?? []).forEach((connectable, i) => {
      if (isPeer(connectable)) {
        assertNotOpen(`allowFrom[${i}]`, connectable);
      }
    });
    const subnets = selectSubnets(props.vpc, props.subnets);

    const services: Array<{ id: string; service: ec2.InterfaceVpcEndpointAwsService; enabled: boolean }> = [
      { id: 'SecretsManager', service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, enabled: true },
      { id: 'Kms', service: ec2.InterfaceVpcEndpointAwsService.KMS, enabled: props.kms ?? false },
      { id: 'Logs', service: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, enabled: props.logs ?? false },
      { id: 'Sts', service: ec2.InterfaceVpcEndpointAwsService.STS, enabled: props.sts ?? false },
    ].filter((s) => s.enabled);

    this.securityGroup = props.securityGroup ?? new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      // fixed: a description that changed with the options would replace the group when an endpoint is added
      description: 'Interface VPC endpoints of AWS APIs (cdk-secrets-platform): HTTPS from named clients only, no egress',
      // the endpoints only answer; aws-cdk-lib renders a rule that matches no traffic instead of allowing all egress
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup], defaultPort: HTTPS });

    const account = Stack.of(this).account;
    const endpoints: Record<string, ec2.InterfaceVpcEndpoint> = {};
    for (const spec of services) {
      const endpoint = new ec2.InterfaceVpcEndpoint(this, spec.id, {
        vpc: props.vpc,
        service: spec.service,
        subnets,
        privateDnsEnabled: true,
        securityGroups: [this.securityGroup],
        // aws-cdk-lib would admit the whole VPC CIDR; only the given clients are admitted
        open: false,
      });
      for (const statement of endpointPolicy(spec.service === ec2.InterfaceVpcEndpointAwsService.STS, account, this.organizationId)) {
        endpoint.addToPolicy(statement);
      }
      endpoints[spec.id] = endpoint;
      this.allEndpoints.push(endpoint);
    }
    this.secretsManagerEndpoint = endpoints.SecretsManager;
    this.kmsEndpoint = endpoints.Kms;
    this.logsEndpoint = endpoints.Logs;
    this.stsEndpoint = endpoints.Sts;

    (props.allowFromPeers ?? []).forEach((peer) => this.connections.allowDefaultPortFrom(peer, describeClient(peer)));
    (props.allowFrom ?? []).forEach((connectable) => this.allowFrom(connectable));

    this.node.addValidation({ validate: () => [...this.openIngressErrors(), ...this.conflictingEndpointErrors()] });
  }

  /** Every endpoint of this construct, Secrets Manager first. */
  public get endpoints(): ec2.InterfaceVpcEndpoint[] {
    return [...this.allEndpoints];
  }

  /** The ids of every endpoint of this construct, Secrets Manager first. */
  public get endpointIds(): string[] {
    return this.allEndpoints.map((e) => e.vpcEndpointId);
  }

  /**
   * Admits a client to the endpoints on TCP 443: an ingress rule from each of its security groups (and an egress rule
   * to the endpoints on its security groups that restrict egress), or from a network (`ec2.Peer`). For example a
   * `RotationFunction` placed in the VPC. Open networks (`0.0.0.0/0`, `::/0`) are refused.
   *
   * The rules are created in the client's stack when its security groups are in another stack than the endpoints':
   * a client in an application stack then depends on a central stack holding the endpoints, never the other way round.
   *
   * @param connectable the client, for example a `RotationFunction`, a Lambda function, a security group or an `ec2.Peer`
   * @param description description of the rules
   */
  public allowFrom(connectable: ec2.IConnectable, description?: string): void {
    if (isPeer(connectable)) {
      assertNotOpen('allowFrom', connectable);
    }
    let connections: ec2.Connections;
    try {
      connections = connectable.connections;
    } catch (e) {
      throw new Error(`${OWNER}.allowFrom: the client has no network connections: ${(e as Error).message}`);
    }
    // From the client's side: aws-cdk-lib puts the rules of a.allowTo(b) in a's stack when b's security groups are in
    // another stack (SecurityGroupBase.determineRuleScope). this.connections.allowFrom(client) would put both rules in
    // the endpoints' stack, which would then reference the client's security groups. In one stack both are the same.
    connections.allowTo(this.connections, HTTPS, description ?? describeClient(connectable));
  }

  /** Ingress rules of the endpoints' security group that admit every address (synth-time backstop for `connections`). */
  private openIngressErrors(): string[] {
    const sg = this.securityGroup;
    const stack = Stack.of(sg);
    const rules: Array<{ cidrIp?: unknown; cidrIpv6?: unknown }> = [];
    const inline = sg.node.defaultChild;
    if (inline instanceof ec2.CfnSecurityGroup) {
      const resolved = stack.resolve(inline.securityGroupIngress);
      if (Array.isArray(resolved)) {
        rules.push(...resolved);
      }
    }
    for (const child of sg.node.findAll()) {
      if (child instanceof ec2.CfnSecurityGroupIngress) {
        rules.push({ cidrIp: stack.resolve(child.cidrIp), cidrIpv6: stack.resolve(child.cidrIpv6) });
      }
    }
    return rules
      .map((r) => openCidr(r.cidrIp) ?? openCidr(r.cidrIpv6))
      .filter((cidr): cidr is string => cidr !== undefined)
      .map((cidr) => `${OWNER}: the endpoints' security group ${sg.node.path} admits ${cidr}; `
        + 'the endpoints admit HTTPS only from named clients (security groups or narrower CIDRs), never 0.0.0.0/0 or ::/0');
  }

  /** Other interface endpoints with private DNS for the same service in the same VPC (deployment would fail). */
  private conflictingEndpointErrors(): string[] {
    const stack = Stack.of(this);
    const ours = new Set(this.allEndpoints.map((e) => e.node.defaultChild));
    const key = (e: ec2.CfnVPCEndpoint) => JSON.stringify(stack.resolve([e.vpcId, e.serviceName]));
    const ourKeys = new Map(this.allEndpoints.map((e) => [key(e.node.defaultChild as ec2.CfnVPCEndpoint), e]));
    const errors: string[] = [];
    for (const child of stack.node.findAll()) {
      if (!(child instanceof ec2.CfnVPCEndpoint) || ours.has(child) || child.vpcEndpointType !== 'Interface') {
        continue;
      }
      const privateDns = stack.resolve(child.privateDnsEnabled);
      const mine = ourKeys.get(key(child));
      if (mine && (privateDns === true || privateDns === 'true')) {
        errors.push(`${OWNER}: ${child.node.path} is another interface endpoint with private DNS for the same service in the `
          + `same VPC as ${mine.node.path}; a VPC takes one per service: remove one of them`);
      }
    }
    return errors;
  }
}

/** The endpoint policy: every action, for principals of the account or organization only. */
function endpointPolicy(sts: boolean, account: string, organizationId: string | undefined): iam.PolicyStatement[] {
  const statements = [new iam.PolicyStatement({
    sid: organizationId ? 'AllowPrincipalsOfTheOrganization' : 'AllowPrincipalsOfThisAccount',
    principals: [new iam.StarPrincipal()],
    actions: ['*'],
    resources: ['*'],
    conditions: {
      StringEquals: organizationId ? { 'aws:PrincipalOrgID': organizationId } : { 'aws:PrincipalAccount': account },
    },
  })];
  if (sts) {
    statements.push(new iam.PolicyStatement({
      sid: organizationId ? 'AllowFederatedCallersToAssumeRolesOfTheOrganization' : 'AllowFederatedCallersToAssumeRolesOfThisAccount',
      principals: [new iam.StarPrincipal()],
      actions: FEDERATED_STS_ACTIONS,
      resources: ['*'],
      conditions: {
        StringEquals: organizationId ? { 'aws:ResourceOrgID': organizationId } : { 'aws:ResourceAccount': account },
      },
    }));
  }
  return statements;
}

/** The subnet selection for the endpoints, checked against the VPC where the VPC knows its subnets. */
function selectSubnets(vpc: ec2.IVpc, given: ec2.SubnetSelection | undefined): ec2.SubnetSelection {
  let selection = given;
  if (selection === undefined) {
    if (vpc.privateSubnets.length > 0) {
      selection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    } else if (vpc.isolatedSubnets.length > 0) {
      selection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    } else {
      throw new Error(`${OWNER}: the VPC ${vpc.node.path} has no private or isolated subnets; pass subnets to choose `
        + 'the subnets of the endpoints (for example { subnetType: ec2.SubnetType.PUBLIC })');
    }
  }
  let selected: ec2.SelectedSubnets;
  try {
    selected = vpc.selectSubnets({ ...selection, onePerAz: true });
  } catch (e) {
    throw new Error(`${OWNER}: subnets selects no subnets of the VPC ${vpc.node.path}: ${(e as Error).message}`);
  }
  if (!selected.isPendingLookup && selected.subnets.length === 0) {
    throw new Error(`${OWNER}: subnets selects no subnets of the VPC ${vpc.node.path}; select 1 or more subnets `
      + '(by subnetType, subnetGroupName, availabilityZones or subnets), at most one per Availability Zone is used');
  }
  return selection;
}

/** True for an `ec2.IPeer` (a peer is also an `IConnectable`). */
function isPeer(x: ec2.IConnectable): x is ec2.IPeer {
  return typeof (x as Partial<ec2.IPeer>).toIngressRuleConfig === 'function';
}

/** Throws when a peer admits every IPv4 or IPv6 address. */
function assertNotOpen(property: string, peer: ec2.IPeer): void {
  const config = peer.toIngressRuleConfig();
  const open = openCidr(config.cidrIp) ?? openCidr(config.cidrIpv6);
  if (open !== undefined) {
    throw new Error(`${OWNER}: ${property} must not admit every address (0.0.0.0/0 or ::/0), got ${open}; `
      + 'admit security groups or IConnectable clients, or narrower CIDRs such as the VPC\'s CIDR (ec2.Peer.ipv4(vpc.vpcCidrBlock))');
  }
}

/** The CIDR if it is a literal with prefix length 0 (every address), else undefined. */
function openCidr(cidr: unknown): string | undefined {
  return typeof cidr === 'string' && !Token.isUnresolved(cidr) && /\/0+$/.test(cidr.trim()) ? cidr : undefined;
}

/** Rule description: names literal networks; security groups are named by the rule itself. */
function describeClient(connectable: ec2.IConnectable): string {
  const network = isPeer(connectable) && connectable.toIngressRuleConfig().sourceSecurityGroupId === undefined
    && !Token.isUnresolved(connectable.uniqueId) ? ` from ${connectable.uniqueId}` : '';
  return `HTTPS to the interface VPC endpoints${network}`;
}
