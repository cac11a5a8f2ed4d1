import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describeFindings, nagFindings } from './nag';
import { PlatformStack, TeamStack, multiStackApp } from '../examples/multi-stack-app';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function build(): { app: App; platform: PlatformStack; teams: TeamStack[] } {
  const app = new App();
  return { app, ...multiStackApp(app, ENV) };
}

/** Every `Fn::ImportValue` in a template, as the exporting stack's name prefix of the export. */
function importedExports(template: Template): string[] {
  const found: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      x.forEach(walk);
    } else if (x !== null && typeof x === 'object') {
      for (const [k, v] of Object.entries(x)) {
        if (k === 'Fn::ImportValue') {
          found.push(String(v));
        } else {
          walk(v);
        }
      }
    }
  };
  walk(template.toJSON());
  return found;
}

describe('examples/multi-stack-app: a platform stack and two team stacks', () => {
  const { app, platform, teams } = build();
  const assembly = app.synth();

  test('synthesizes: no cycle between the stacks', () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['Platform', 'TeamOrders', 'TeamReporting']);
  });

  test('every dependency points from a team to the platform, none back', () => {
    expect(platform.dependencies).toEqual([]);
    for (const team of teams) {
      expect(team.dependencies).toEqual([platform]);
    }
  });

  test('the platform imports nothing; the teams import only the platform\'s exports', () => {
    expect(importedExports(Template.fromStack(platform))).toEqual([]);
    for (const team of teams) {
      const imports = importedExports(Template.fromStack(team));
      expect(imports.length).toBeGreaterThan(0);
      for (const name of imports) {
        expect(name).toMatch(/^Platform:/);
      }
    }
  });

  test('the shared functions live in the platform only; each team adds schedules, not functions', () => {
    const platformTemplate = Template.fromStack(platform);
    const rotationFunctions = (template: Template) => Object.keys(template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Rotates .* secrets in Secrets Manager') },
    }));
    expect(rotationFunctions(platformTemplate)).toHaveLength(2);
    platformTemplate.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    for (const team of teams) {
      const template = Template.fromStack(team);
      template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
      expect(rotationFunctions(template)).toEqual([]);
      template.resourceCountIs('AWS::Lambda::Permission', 0);
    }
  });

  test('each team admits its reader to the platform\'s endpoints with rules in the team stack', () => {
    for (const team of teams) {
      const template = Template.fromStack(team);
      template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
      template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 1);
    }
    Template.fromStack(platform).resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
  });
});

describe.each(['Platform', 'TeamOrders', 'TeamReporting'])('cdk-nag on %s', (stackName) => {
  test('AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1 and Serverless report nothing', () => {
    // aspects added after an app's first synthesis do not run: a fresh app per stack
    const { app } = build();
    const stack = app.node.findChild(stackName) as Stack;
    expect(describeFindings(nagFindings(stack))).toEqual([]);
  });
});
