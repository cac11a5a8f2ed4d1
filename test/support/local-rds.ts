import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

/** A DB instance or cluster the local endpoint describes. */
export interface LocalDbEndpoint {
  readonly arn: string;
  readonly address: string;
  readonly port: number;
}

/**
 * A local Amazon RDS endpoint for the two calls a rotation makes (DescribeDBInstances, DescribeDBClusters),
 * speaking the AWS Query protocol the SDK v3 RDS client uses. Reached through AWS_ENDPOINT_URL_RDS.
 */
export class LocalRds {
  public static async start(): Promise<LocalRds> {
    const rds = new LocalRds();
    await new Promise<void>((resolve) => rds.server.listen(0, '127.0.0.1', resolve));
    return rds;
  }

  public readonly calls: Array<{ action: string; params: Record<string, string> }> = [];
  private readonly instances = new Map<string, LocalDbEndpoint>();
  private readonly clusters = new Map<string, LocalDbEndpoint>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  private constructor() {}

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public addInstance(instance: LocalDbEndpoint): void {
    this.instances.set(instance.arn, instance);
  }

  public addCluster(cluster: LocalDbEndpoint): void {
    this.clusters.set(cluster.arn, cluster);
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const action = params.Action ?? '';
      this.calls.push({ action, params });
      const [status, body] = this.respond(action, params);
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(body);
    });
  }

  private respond(action: string, params: Record<string, string>): [number, string] {
    if (action === 'DescribeDBInstances') {
      const found = this.instances.get(params.DBInstanceIdentifier);
      if (!found) return [404, errorXml('DBInstanceNotFound', 'DBInstance not found')];
      const member = `<DBInstance><DBInstanceArn>${xml(found.arn)}</DBInstanceArn><Endpoint><Address>${xml(found.address)}</Address><Port>${found.port}</Port></Endpoint></DBInstance>`;
      return [200, resultXml(action, `<DBInstances>${member}</DBInstances>`)];
    }
    if (action === 'DescribeDBClusters') {
      const found = this.clusters.get(params.DBClusterIdentifier);
      if (!found) return [404, errorXml('DBClusterNotFoundFault', 'DBCluster not found')];
      const member = `<DBCluster><DBClusterArn>${xml(found.arn)}</DBClusterArn><Endpoint>${xml(found.address)}</Endpoint><Port>${found.port}</Port></DBCluster>`;
      return [200, resultXml(action, `<DBClusters>${member}</DBClusters>`)];
    }
    return [400, errorXml('InvalidAction', 'not implemented by the local endpoint')];
  }
}

function resultXml(action: string, inner: string): string {
  return `<${action}Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><${action}Result>${inner}</${action}Result>`
    + `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>${code}</Code>`
    + `<Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
