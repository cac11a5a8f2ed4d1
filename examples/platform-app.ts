/**
 * A platform team's secrets stack: PostgreSQL credentials for three applications, a Redshift warehouse user, a
 * DocumentDB catalog user, an API key rotated by a custom rotator and the OAuth refresh token of a CRM integration, encrypted with the team's own KMS key and rotated by shared functions (one per engine and
 * rotation scheme) that run in the VPC next to the databases, with monitoring switched on for everything the stack
 * rotates.
 *
 * Synthesize it with `npx cdk synth --app "npx ts-node --prefer-ts-exts examples/platform-app.ts"`; `npm run demo` does.
 */
import { App, Duration, SecretValue, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  PasswordPolicy,
  RotationEngine,
  RotationFunction,
  RotationFunctionOptions,
  RotationMonitor,
  RotationSchedule,
  Secret,
  SecretEncryptionKey,
  SecretPolicy,
  SecretTemplate,
  SecretsManagerEndpoints,
} from '../src';
import { bundleRotator } from './api-key-rotator/bundle';

/** Where the applications' PostgreSQL cluster answers (inside the VPC). */
const DATABASE = { host: 'apps.cluster-example.eu-west-1.rds.amazonaws.com', port: 5432, dbname: 'apps' };
/** The analytics warehouse (a provisioned Redshift cluster whose admin password Redshift manages) and the catalog (DocumentDB). */
const WAREHOUSE = { host: 'warehouse.cexample1234.eu-west-1.redshift.amazonaws.com', port: 5439, dbname: 'analytics' };
const WAREHOUSE_ADMIN_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift!warehouse-admin-AbCdEf';
const CATALOG = { host: 'catalog.cluster-example.eu-west-1.docdb.amazonaws.com', port: 27017, dbname: 'admin' };
/** An internal HTTP API whose API key has two slots (examples/api-key-rotator), and its admin credential (its team's secret). */
const KEYS_API = 'https://keys.internal.example.com';
const KEYS_ADMIN_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys-api/admin-GhIjKl';
/** The CRM's OpenID Connect provider, and the secret its first authorization left the tokens in. */
const CRM_ISSUER = 'https://login.crm.example.com';
const CRM_BOOTSTRAP_SECRET = 'platform/crm/bootstrap';

export class PlatformSecretsStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);

    // The network stack owns the VPC (flow logs, closed default security group); this stack imports it. Isolated
    // subnets only: the rotation functions reach Secrets Manager through an interface endpoint, not a NAT.
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: 'vpc-0a1b2c3d4e5f67890',
      vpcCidrBlock: '10.20.0.0/16',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      isolatedSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      isolatedSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
      // with a NAT route: for what must reach a service on the internet (the CRM's identity provider)
      privateSubnetIds: ['subnet-0ccccccccccccccc3', 'subnet-0ddddddddddddddd4'],
      privateSubnetRouteTableIds: ['rtb-0ccccccccccccccc3', 'rtb-0ddddddddddddddd4'],
    });

    // Usable by the account only through Secrets Manager in this region.
    const key = new SecretEncryptionKey(this, 'SecretsKey', {
      alias: 'alias/platform/secrets',
      description: 'Encrypts the platform database secrets',
    });

    // The same options select the same shared function: one per engine rotates every secret of that engine.
    const rotationFunctionOptions: RotationFunctionOptions = {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    };
    const endpoints = new SecretsManagerEndpoints(this, 'Endpoints', {
      vpc,
      allowFrom: [
        RotationFunction.shared(this, RotationEngine.POSTGRES_SINGLE_USER, rotationFunctionOptions),
        RotationFunction.shared(this, RotationEngine.POSTGRES_MULTI_USER, rotationFunctionOptions),
        RotationFunction.shared(this, RotationEngine.REDSHIFT_MULTI_USER, rotationFunctionOptions),
        RotationFunction.shared(this, RotationEngine.DOCUMENTDB_SINGLE_USER, rotationFunctionOptions),
      ],
    });

    // The master user creates and updates the `_clone` users of alternating-user secrets; it rotates itself.
    const master = this.databaseSecret('MasterSecret', key, 'platform_admin', RotationEngine.POSTGRES_SINGLE_USER);
    master.addRotation({ schedule: RotationSchedule.rate(Duration.days(30)), rotationFunctionOptions });

    // Single user: the application's user changes its own password.
    const orders = this.databaseSecret('OrdersSecret', key, 'orders', RotationEngine.POSTGRES_SINGLE_USER);
    orders.addRotation({ schedule: RotationSchedule.rate(Duration.days(30)), rotationFunctionOptions });

    // Rotated on Sunday nights between 03:00 and 05:00 UTC, when traffic is lowest.
    const payments = this.databaseSecret('PaymentsSecret', key, 'payments', RotationEngine.POSTGRES_SINGLE_USER);
    payments.addRotation({
      schedule: RotationSchedule.cron({ hour: '3', weekDay: 'SUN' }, { window: Duration.hours(2) }),
      rotationFunctionOptions,
    });
    // Payments credentials are read only over TLS and only through the VPC endpoint.
    SecretPolicy.applyTo(payments, SecretPolicy.denyWithoutTls(), SecretPolicy.denyOutsideVpcEndpoints([endpoints.secretsManagerEndpoint]));

    // Alternating users: `reporting` and `reporting_clone` take turns, so long-lived connections never fail a login.
    const reporting = this.databaseSecret('ReportingSecret', key, 'reporting', RotationEngine.POSTGRES_MULTI_USER, master);
    reporting.addRotation({
      schedule: RotationSchedule.rate(Duration.days(7), { window: Duration.hours(4) }),
      rotationFunctionOptions,
    });

    // Redshift, alternating users: the admin secret Redshift manages (ManageMasterPassword) creates and updates
    // `bi_reader_clone` with `bi_reader`'s privileges; the function finds the cluster's endpoint through the Redshift API.
    const warehouseAdmin = secretsmanager.Secret.fromSecretCompleteArn(this, 'WarehouseAdminSecret', WAREHOUSE_ADMIN_SECRET_ARN);
    const warehouse = new Secret(this, 'WarehouseSecret', {
      description: 'Redshift credential of bi_reader',
      encryptionKey: key,
      template: SecretTemplate.database({
        engine: 'redshift', ...WAREHOUSE, username: 'bi_reader', rotationEngine: RotationEngine.REDSHIFT_MULTI_USER, masterSecret: warehouseAdmin,
      }),
    });
    warehouse.addRotation({ schedule: RotationSchedule.rate(Duration.days(30)), rotationFunctionOptions });
    // Without a route to the internet, that lookup goes through a Redshift API endpoint only this function may reach.
    const redshiftRotation = RotationFunction.shared(this, RotationEngine.REDSHIFT_MULTI_USER, rotationFunctionOptions);
    const redshiftApi = new ec2.InterfaceVpcEndpoint(this, 'RedshiftApiEndpoint', {
      vpc,
      service: ec2.InterfaceVpcEndpointAwsService.REDSHIFT,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      open: false,
    });
    redshiftApi.connections.allowFrom(redshiftRotation, ec2.Port.tcp(443), 'Redshift DescribeClusters from the Redshift rotation function');

    // DocumentDB, single user: the catalog service's user changes its own password (TLS with the RDS CAs, rs0).
    const catalog = new Secret(this, 'CatalogSecret', {
      description: 'DocumentDB credential of catalog',
      encryptionKey: key,
      template: SecretTemplate.database({ engine: 'docdb', ...CATALOG, username: 'catalog', rotationEngine: RotationEngine.DOCUMENTDB_SINGLE_USER }),
    });
    catalog.addRotation({ schedule: RotationSchedule.rate(Duration.days(30)), rotationFunctionOptions });

    // A custom rotator: the API key of the keys API, rotated by examples/api-key-rotator/rotator.ts (its bundle) in the
    // same hardened shared function, with the same alarms, as the bundled engines. The function reads the API's admin
    // secret and nothing else beyond the standard rotation permissions.
    const apiKeyPolicy = new PasswordPolicy({ length: 40, excludePunctuation: true });
    const apiKeyEngine = RotationEngine.custom({
      id: 'api-key',
      code: lambda.Code.fromAsset(bundleRotator()),
      passwordPolicy: apiKeyPolicy,
      defaultPort: 443,
      policyStatements: [new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [KEYS_ADMIN_SECRET_ARN] })],
    });
    const apiKey = new Secret(this, 'KeysApiKeySecret', {
      description: 'API key of the keys API (slots A and B)',
      encryptionKey: key,
      // the first value is generated in slot A; the first rotation, right after deployment, gives slot B a key the API knows
      generateSecretString: apiKeyPolicy.toSecretStringGenerator({
        secretStringTemplate: JSON.stringify({ url: KEYS_API, slot: 'A', adminarn: KEYS_ADMIN_SECRET_ARN }),
        generateStringKey: 'api_key',
      }),
    });
    apiKey.addRotation({ engine: apiKeyEngine, schedule: RotationSchedule.rate(Duration.days(30)), rotationFunctionOptions });
    endpoints.allowFrom(RotationFunction.shared(this, apiKeyEngine, rotationFunctionOptions), 'API key rotation');

    // An OAuth 2.0 refresh token of the CRM integration, rotated daily: one refresh exchange per rotation, stored at once,
    // the new access token proved at the provider's userinfo endpoint. Its function runs in the subnets with a NAT route
    // (the isolated ones have no route to the identity provider) and opens HTTPS only.
    const crm = new Secret(this, 'CrmRefreshTokenSecret', {
      description: 'OAuth refresh token of the CRM integration',
      encryptionKey: key,
      template: SecretTemplate.oauthRefreshToken({
        clientId: 'platform-crm-sync',
        issuer: CRM_ISSUER,
        scope: 'openid offline_access crm.read',
        // the first tokens come from the authorization-code grant the integration's owner made once; dynamic references,
        // so no token lands in the template
        clientSecret: SecretValue.secretsManager(CRM_BOOTSTRAP_SECRET, { jsonField: 'client_secret' }),
        refreshToken: SecretValue.secretsManager(CRM_BOOTSTRAP_SECRET, { jsonField: 'refresh_token' }),
      }),
    });
    const oauthOptions: RotationFunctionOptions = { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } };
    crm.addRotation({
      engine: RotationEngine.OAUTH_REFRESH_TOKEN,
      schedule: RotationSchedule.rate(Duration.days(1)),
      rotationFunctionOptions: oauthOptions,
    });
    // Secrets Manager through the endpoint as well (private DNS answers for the whole VPC)
    endpoints.allowFrom(RotationFunction.shared(this, RotationEngine.OAUTH_REFRESH_TOKEN, oauthOptions), 'OAuth refresh-token rotation');

    // One call, after the rotations: failed, abandoned and overdue rotations notify an encrypted topic (subscribe the
    // on-call address or chat integration to `monitor.topic`), every rotation function and error code has an alarm,
    // and a dashboard shows it all. The overdue check runs in the VPC too and reaches Secrets Manager by the endpoint.
    const monitor = RotationMonitor.enable(this, {
      overdueCheckOptions: { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } },
      dashboardName: 'platform-secrets-rotation',
    });
    endpoints.allowFrom(monitor.overdueCheck!.lambdaFunction, 'Rotation overdue check');
  }

  /** A PostgreSQL secret whose first password follows the same policy as every rotation. */
  private databaseSecret(id: string, key: SecretEncryptionKey, username: string, rotationEngine: RotationEngine, masterSecret?: Secret): Secret {
    return new Secret(this, id, {
      description: `PostgreSQL credential of ${username}`,
      encryptionKey: key,
      template: SecretTemplate.database({ ...DATABASE, username, rotationEngine, masterSecret }),
    });
  }
}

// synthesized when run as the CDK app; tests import the stack class
if (require.main === module) {
  const app = new App();
  new PlatformSecretsStack(app, 'PlatformSecrets', {
    env: { account: '123456789012', region: 'eu-west-1' },
    description: 'Platform database secrets with shared rotation functions (cdk-secrets-platform example)',
  });
  app.synth();
}
