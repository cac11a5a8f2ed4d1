import * as rds from 'aws-cdk-lib/aws-rds';
import { mysqlFamilyRotationApp } from './mysql-family-rotation-app';
import { RotationEngine } from '../src';

/** RDS for MySQL 8.0: a single-user and an alternating-users secret, rotated when deployed (see mysqlFamilyRotationApp). */
mysqlFamilyRotationApp({
  stackName: 'MysqlRotationInteg',
  testName: 'MysqlRotation',
  engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_0 }),
  singleUser: RotationEngine.MYSQL_SINGLE_USER,
  multiUser: RotationEngine.MYSQL_MULTI_USER,
});
