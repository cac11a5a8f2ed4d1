import * as rds from 'aws-cdk-lib/aws-rds';
import { mysqlFamilyRotationApp } from './mysql-family-rotation-app';
import { RotationEngine } from '../src';

/** RDS for MariaDB 10.11: a single-user and an alternating-users secret, rotated when deployed (see mysqlFamilyRotationApp). */
mysqlFamilyRotationApp({
  stackName: 'MariadbRotationInteg',
  testName: 'MariadbRotation',
  engine: rds.DatabaseInstanceEngine.mariaDb({ version: rds.MariaDbEngineVersion.VER_10_11 }),
  singleUser: RotationEngine.MARIADB_SINGLE_USER,
  multiUser: RotationEngine.MARIADB_MULTI_USER,
});
