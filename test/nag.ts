import { Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { SynthesisMessage } from 'aws-cdk-lib/cx-api';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NIST80053R5Checks,
  PCIDSS321Checks,
  ServerlessChecks,
} from 'cdk-nag';

/** The five packs every construct's stack must pass. */
export const NAG_PACKS = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321', 'Serverless'] as const;

/** One unsuppressed cdk-nag (or CDK) error or warning. */
export interface NagFinding {
  readonly level: 'error' | 'warning';
  /** Construct path of the resource, from the stack. */
  readonly path: string;
  /** Rule id with its finding, for example `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  /** The whole message. */
  readonly message: string;
}

/**
 * Applies the AwsSolutions, HIPAA Security, NIST 800-53 R5, PCI DSS 3.2.1 and Serverless packs to the stack and returns
 * every unsuppressed error and warning.
 *
 * Call it before anything else synthesizes the app (Template.fromStack, Annotations.fromStack): aspects added after the
 * first synthesis do not run.
 */
export function nagFindings(stack: Stack): NagFinding[] {
  const packs = [
    new AwsSolutionsChecks({ verbose: true, reports: false }),
    new HIPAASecurityChecks({ verbose: true, reports: false }),
    new NIST80053R5Checks({ verbose: true, reports: false }),
    new PCIDSS321Checks({ verbose: true, reports: false }),
    new ServerlessChecks({ verbose: true, reports: false }),
  ];
  for (const pack of packs) {
    Aspects.of(stack).add(pack);
  }
  const annotations = Annotations.fromStack(stack);
  const toFinding = (level: NagFinding['level']) => (m: SynthesisMessage): NagFinding => {
    const message = String(m.entry.data);
    const end = message.indexOf(': ');
    return { level, path: m.id, rule: end < 0 ? message : message.slice(0, end), message };
  };
  return [
    ...annotations.findError('*', Match.anyValue()).map(toFinding('error')),
    ...annotations.findWarning('*', Match.anyValue()).map(toFinding('warning')),
  ];
}

/** Findings as `path: rule` lines, easy to read in a failed assertion. */
export function describeFindings(findings: NagFinding[]): string[] {
  return findings.map((f) => `${f.level} ${f.path}: ${f.rule}`).sort();
}
