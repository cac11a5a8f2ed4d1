import { Annotations, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';

/** Id of the warning for a function that may not reach Secrets Manager (acknowledge it with `Annotations.acknowledgeWarning`). */
export const NO_ROUTE_WARNING_ID = 'cdk-secrets-platform:rotationFunctionMayNotReachSecretsManager';

/** What the check looks at. */
export interface RouteCheckInput {
  /** Prefix of messages, for example `RotationFunction`. */
  readonly owner: string;
  /** The function (its app is searched for endpoints and routes). */
  readonly scope: IConstruct;
  /** The function's VPC. */
  readonly vpc: ec2.IVpc;
  /** The function's subnet selection as given (undefined: aws-cdk-lib's default). */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** At most one of them. */
export interface RouteCheckResult {
  /** The function can never reach Secrets Manager. */
  readonly error?: string;
  /** The function reaches Secrets Manager only through something this app does not define. */
  readonly warning?: string;
}

/**
 * Whether a function in a VPC can reach the Secrets Manager API.
 *
 * The handlers call Secrets Manager at its default host name, so from an isolated subnet (no route to a NAT gateway or
 * an internet gateway) the only way is an interface endpoint for Secrets Manager with private DNS in the function's VPC.
 *
 * - error: the VPC is defined in this app (`ec2.Vpc`), the selected isolated subnets have no route the app adds, and
 *   no Secrets Manager interface endpoint of that VPC is defined anywhere in the app (any stack);
 * - warning: isolated subnets of an imported VPC (`Vpc.fromLookup`, `Vpc.fromVpcAttributes`: its routes and
 *   endpoints are not known here), isolated subnets with routes the app adds (to a transit gateway, a peering, a VPN),
 *   or an endpoint with private DNS disabled;
 * - nothing: no isolated subnet is selected (subnets with egress, or subnets whose type is not known), or an endpoint
 *   with private DNS exists in the app.
 *
 * Run it late (`node.addValidation`) so endpoints and routes added after the function are seen.
 */
export function checkRouteToSecretsManager(input: RouteCheckInput): RouteCheckResult {
  const { owner, scope, vpc, vpcSubnets } = input;
  let selected: ec2.SelectedSubnets;
  try {
    selected = vpc.selectSubnets(vpcSubnets);
  } catch {
    // the function's own placement already failed on this selection
    return {};
  }
  if (selected.isPendingLookup) {
    // Vpc.fromLookup before the lookup: the values are placeholders; the next synthesis has the real ones
    return {};
  }
  const isolatedIds = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
  const isolated = selected.subnets.filter((s) => isolatedIds.has(s.subnetId));
  if (isolated.length === 0) {
    return {};
  }

  const root = scope.node.root;
  const endpoints = secretsManagerEndpointsOf(root, vpc);
  if (endpoints.some(hasPrivateDns)) {
    return {};
  }

  const which = vpcSubnets === undefined ? 'the subnets selected by default (vpcSubnets not given)' : 'the subnets vpcSubnets selects';
  const subject = `${owner}: ${which} in vpc ${vpc.node.path} include isolated subnets`
    + ` (${isolated.length} of ${selected.subnets.length}: no route to a NAT gateway or an internet gateway)`;
  const remedy = 'Add a Secrets Manager interface endpoint with private DNS to the VPC (new SecretsManagerEndpoints(scope, '
    + '\'Endpoints\', { vpc, allowFrom: [rotationFunction] })), or set vpcSubnets to subnets with a NAT route (for example '
    + '{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS })';

  if (endpoints.length > 0) {
    return {
      warning: `${subject}, and the Secrets Manager interface endpoint ${endpoints.map((e) => e.node.path).join(', ')} of that VPC `
        + 'has private DNS disabled: the function calls Secrets Manager at its default host name, which resolves to the '
        + 'endpoint only with private DNS (or a private hosted zone defined outside this app). Enable private DNS '
        + '(SecretsManagerEndpoints does), or acknowledge this warning if such a zone exists.',
    };
  }

  const routed = routeTablesWithRoutes(root);
  const withRoutes = isolated.filter((s) => routed.has(routeTableIdOf(s) ?? ''));
  if (vpc instanceof ec2.Vpc && withRoutes.length === 0) {
    return {
      error: `${subject} and no Secrets Manager interface endpoint of that VPC is defined in the app: the function could never `
        + `reach Secrets Manager, so no rotation could succeed. ${remedy}.`,
    };
  }
  const why = vpc instanceof ec2.Vpc
    ? 'the app adds routes to them (for example to a transit gateway, a peering connection or a VPN), which may lead to a '
      + 'Secrets Manager endpoint elsewhere'
    : 'the vpc is imported, so an endpoint or a route to Secrets Manager may exist outside this app';
  return {
    warning: `${subject} and no Secrets Manager interface endpoint of that VPC is defined in the app; ${why}. The function `
      + `reaches Secrets Manager only if one does. ${remedy}; or acknowledge this warning when the VPC has one.`,
  };
}

/** Interface endpoints for Secrets Manager (or its FIPS endpoint) of the VPC, anywhere in the app. */
function secretsManagerEndpointsOf(root: IConstruct, vpc: ec2.IVpc): ec2.CfnVPCEndpoint[] {
  return root.node.findAll().filter((c): c is ec2.CfnVPCEndpoint => c instanceof ec2.CfnVPCEndpoint
    && c.vpcEndpointType === 'Interface'
    && isSecretsManagerService(c)
    && sameValue(vpc, vpc.vpcId, c, c.vpcId));
}

/** `com.amazonaws.<region>.secretsmanager` (or `-fips`); aws-cdk-lib renders the region, and an empty suffix, as tokens. */
function isSecretsManagerService(endpoint: ec2.CfnVPCEndpoint): boolean {
  const resolved: unknown = Stack.of(endpoint).resolve(endpoint.serviceName);
  let name: string | undefined;
  if (typeof resolved === 'string') {
    name = resolved;
  } else if (isJoin(resolved)) {
    const [separator, parts] = resolved['Fn::Join'];
    // an unresolved part (the region) never ends the name, so a placeholder is enough
    name = parts.map((p) => (typeof p === 'string' ? p : '{token}')).join(separator);
  }
  return name !== undefined && /\.secretsmanager(-fips)?$/.test(name);
}

function isJoin(x: unknown): x is { 'Fn::Join': [string, unknown[]] } {
  const join = (x as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'];
  return Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]);
}

function hasPrivateDns(endpoint: ec2.CfnVPCEndpoint): boolean {
  const value = Stack.of(endpoint).resolve(endpoint.privateDnsEnabled);
  return value === true || value === 'true';
}

/** The same string (the same token), or the same literal once resolved in the stacks that hold them. */
function sameValue(aScope: IConstruct, a: string, bScope: IConstruct, b: string): boolean {
  if (a === b) {
    return true;
  }
  const ra = Stack.of(aScope).resolve(a);
  const rb = Stack.of(bScope).resolve(b);
  return typeof ra === 'string' && ra === rb;
}

/** Ids (as written, often tokens) of the route tables the app adds routes or route propagation to. */
function routeTablesWithRoutes(root: IConstruct): Set<string> {
  const ids = new Set<string>();
  for (const c of root.node.findAll()) {
    if (c instanceof ec2.CfnRoute) {
      ids.add(c.routeTableId);
    } else if (c instanceof ec2.CfnVPNGatewayRoutePropagation) {
      c.routeTableIds.forEach((id) => ids.add(id));
    }
  }
  return ids;
}

function routeTableIdOf(subnet: ec2.ISubnet): string | undefined {
  try {
    return subnet.routeTable?.routeTableId;
  } catch {
    // imported subnets without a route table id throw on access
    return undefined;
  }
}

/**
 * Checks the route to Secrets Manager at synthesis (late, so endpoints and routes defined after the function, in any
 * stack of the app, are seen): no route at all is an error; a route that may exist outside the app is a warning on
 * `warnOn` (the Lambda function, so `Annotations.of(ancestor).acknowledgeWarning(...)` applies).
 */
export function addRouteCheck(input: RouteCheckInput, warnOn: IConstruct): void {
  input.scope.node.addValidation({
    validate: () => {
      const result = checkRouteToSecretsManager(input);
      if (result.warning) {
        Annotations.of(warnOn).addWarningV2(NO_ROUTE_WARNING_ID, result.warning);
      }
      return result.error ? [result.error] : [];
    },
  });
}
