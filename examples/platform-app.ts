/**
 * A platform team's secrets stack: PostgreSQL credentials for three applications, encrypted with the team's own KMS
 * key and rotated by two shared functions (one per rotation scheme) that run in the VPC next to the databases.
 *
 * Synthesize it with `npx cdk synth --app "npx ts-node --prefer-ts-exts examples/platform-app.ts"`; `npm run demo` does.
 */
import { App, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  PasswordPolicy,
  RotationEngine,
  RotationFunctionOptions,
  RotationSchedule,
  SecretRotation,
} from '../src';

/** Where the applications' PostgreSQL cluster answers (inside the VPC). */
const DATABASE = { engine: 'postgres', host: 'apps.cluster-example.eu-west-1.rds.amazonaws.com', port: 5432, dbname: 'apps' };

export class PlatformSecretsStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);

    // Isolated subnets only: the rotation functions reach Secrets Manager through an interface endpoint, not a NAT.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    vpc.addInterfaceEndpoint('SecretsManager', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER });

    const key = new kms.Key(this, 'SecretsKey', {
      alias: 'alias/platform/secrets',
      description: 'Encrypts the platform database secrets',
      enableKeyRotation: true,
    });

    // The same options select the same shared function: one per engine rotates every secret of that engine.
    const rotationFunctionOptions: RotationFunctionOptions = {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    };

    // The master user creates and updates the `_clone` users of alternating-user secrets; it rotates itself.
    const master = this.databaseSecret('MasterSecret', key, { username: 'platform_admin' });
    new SecretRotation(this, 'MasterRotation', {
      secret: master,
      engine: RotationEngine.POSTGRES_SINGLE_USER,
      schedule: RotationSchedule.rate(Duration.days(30)),
      rotationFunctionOptions,
    });

    // Single user: the application's user changes its own password.
    const orders = this.databaseSecret('OrdersSecret', key, { username: 'orders' });
    new SecretRotation(this, 'OrdersRotation', {
      secret: orders,
      engine: RotationEngine.POSTGRES_SINGLE_USER,
      schedule: RotationSchedule.rate(Duration.days(30)),
      rotationFunctionOptions,
    });

    // Rotated on Sunday nights between 03:00 and 05:00 UTC, when traffic is lowest.
    const payments = this.databaseSecret('PaymentsSecret', key, { username: 'payments' });
    new SecretRotation(this, 'PaymentsRotation', {
      secret: payments,
      engine: RotationEngine.POSTGRES_SINGLE_USER,
      schedule: RotationSchedule.cron({ hour: '3', weekDay: 'SUN' }, { window: Duration.hours(2) }),
      rotationFunctionOptions,
    });

    // Alternating users: `reporting` and `reporting_clone` take turns, so long-lived connections never fail a login.
    const reporting = this.databaseSecret('ReportingSecret', key, { username: 'reporting', masterarn: master.secretArn });
    new SecretRotation(this, 'ReportingRotation', {
      secret: reporting,
      engine: RotationEngine.POSTGRES_MULTI_USER,
      masterSecret: master,
      schedule: RotationSchedule.rate(Duration.days(7), { window: Duration.hours(4) }),
      rotationFunctionOptions,
    });
  }

  /** Known zones of the region, so synth needs no AWS account lookup (the documented override point). */
  public get availabilityZones(): string[] {
    return ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
  }

  /** A PostgreSQL secret whose first password follows the same policy as every rotation. */
  private databaseSecret(id: string, key: kms.IKey, fields: { username: string; masterarn?: string }): secretsmanager.Secret {
    return new secretsmanager.Secret(this, id, {
      description: `PostgreSQL credential of ${fields.username}`,
      encryptionKey: key,
      generateSecretString: PasswordPolicy.postgres().toSecretStringGenerator({
        // toJsonString, not JSON.stringify: masterarn is a token resolved at deploy time.
        secretStringTemplate: this.toJsonString({ ...DATABASE, ...fields }),
        generateStringKey: 'password',
      }),
    });
  }
}

const app = new App();
new PlatformSecretsStack(app, 'PlatformSecrets', {
  env: { account: '123456789012', region: 'eu-west-1' },
  description: 'Platform database secrets with shared rotation functions (cdk-secrets-platform example)',
});
app.synth();
