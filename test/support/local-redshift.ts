import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

/** A provisioned cluster the local endpoint describes; `address`/`port` undefined is a cluster still being created. */
export interface LocalRedshiftCluster {
  readonly identifier: string;
  readonly address?: string;
  readonly port?: number;
}

/** A Redshift Serverless namespace. */
export interface LocalNamespace {
  readonly arn: string;
  readonly name: string;
}

/** A Redshift Serverless workgroup of a namespace; no `address` means a workgroup without an endpoint yet. */
export interface LocalWorkgroup {
  readonly name: string;
  readonly namespaceName: string;
  readonly address?: string;
  readonly port?: number;
}

/** One call the endpoint answered: the service, the action and its parameters as sent. */
export interface LocalRedshiftCall {
  readonly service: 'redshift' | 'redshift-serverless';
  readonly action: string;
  readonly params: Record<string, unknown>;
}

/**
 * A local Amazon Redshift and Redshift Serverless endpoint for the calls that resolve a Redshift-managed admin secret,
 * in the protocols the SDK v3 clients speak: Redshift's `DescribeClusters` in AWS Query (form-encoded `Action`, XML
 * answers), Redshift Serverless's `ListNamespaces` and `ListWorkgroups` in AWS JSON 1.1 (`X-Amz-Target:
 * RedshiftServerless.<Action>`, paged with `nextToken`). Reached through AWS_ENDPOINT_URL_REDSHIFT and
 * AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS (the SDK's service ids `Redshift` and `Redshift Serverless`). One server answers
 * both: the protocol tells them apart.
 */
export class LocalRedshift {
  public static async start(): Promise<LocalRedshift> {
    const redshift = new LocalRedshift();
    await new Promise<void>((resolve) => redshift.server.listen(0, '127.0.0.1', resolve));
    return redshift;
  }

  public readonly calls: LocalRedshiftCall[] = [];
  /** Items per page of the Serverless lists (the service's own page size is up to 100, the caller's `maxResults`). */
  public pageSize = 100;
  /** Actions answered with this error instead (`{ DescribeClusters: 'InternalFailure' }`). */
  public readonly failures = new Map<string, string>();
  /** Actions that are never answered: the connection stays open until the client gives up. */
  public readonly hanging = new Set<string>();
  private readonly clusters = new Map<string, LocalRedshiftCluster>();
  private readonly namespaces: LocalNamespace[] = [];
  private readonly workgroups: LocalWorkgroup[] = [];
  private readonly pending = new Set<http.ServerResponse>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  private constructor() {}

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public addCluster(cluster: LocalRedshiftCluster): void {
    this.clusters.set(cluster.identifier, cluster);
  }

  public addNamespace(namespace: LocalNamespace): void {
    this.namespaces.push(namespace);
  }

  public addWorkgroup(workgroup: LocalWorkgroup): void {
    this.workgroups.push(workgroup);
  }

  /** The calls of one action since `from` (an index into {@link calls}). */
  public callsOf(action: string, from = 0): LocalRedshiftCall[] {
    return this.calls.slice(from).filter((c) => c.action === action);
  }

  public async stop(): Promise<void> {
    for (const res of this.pending) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string') this.serverless(target, body, res);
      else this.provisioned(body, res);
    });
  }

  /** AWS Query: `Action=DescribeClusters&Version=2012-12-01&ClusterIdentifier=...`, answered in XML. */
  private provisioned(body: string, res: http.ServerResponse): void {
    const params = Object.fromEntries(new URLSearchParams(body));
    const action = params.Action ?? '';
    this.calls.push({ service: 'redshift', action, params });
    if (this.hold(action, res)) return;
    const failure = this.failures.get(action);
    if (failure) return reply(res, 500, 'text/xml', queryError(failure, 'Receiver', 'failure injected by the test'));
    if (action !== 'DescribeClusters') return reply(res, 400, 'text/xml', queryError('InvalidAction', 'Sender', 'not implemented by the local endpoint'));
    const found = this.clusters.get(params.ClusterIdentifier);
    // the service's answer for an unknown identifier: ClusterNotFound, HTTP 404
    if (!found) return reply(res, 404, 'text/xml', queryError('ClusterNotFound', 'Sender', `Cluster ${xml(params.ClusterIdentifier ?? '')} not found.`));
    const endpoint = found.address === undefined ? ''
      : `<Endpoint><Address>${xml(found.address)}</Address><Port>${found.port}</Port></Endpoint>`;
    const cluster = `<Cluster><ClusterIdentifier>${xml(found.identifier)}</ClusterIdentifier>${endpoint}</Cluster>`;
    reply(res, 200, 'text/xml', `<DescribeClustersResponse xmlns="${XMLNS}"><DescribeClustersResult><Clusters>${cluster}</Clusters>`
      + `</DescribeClustersResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeClustersResponse>`);
  }

  /** AWS JSON 1.1: `X-Amz-Target: RedshiftServerless.ListNamespaces`, a JSON body in and out. */
  private serverless(target: string, body: string, res: http.ServerResponse): void {
    const action = target.startsWith('RedshiftServerless.') ? target.slice('RedshiftServerless.'.length) : target;
    let params: Record<string, unknown>;
    try {
      params = body === '' ? {} : JSON.parse(body);
    } catch {
      return reply(res, 400, JSON_TYPE, jsonError('SerializationException', 'the body is not JSON'));
    }
    this.calls.push({ service: 'redshift-serverless', action, params });
    if (this.hold(action, res)) return;
    const failure = this.failures.get(action);
    if (failure) return reply(res, 500, JSON_TYPE, jsonError(failure, 'failure injected by the test'));
    if (action === 'ListNamespaces') {
      const { items, nextToken } = this.page(this.namespaces, params);
      const namespaces = items.map((n) => ({ namespaceArn: n.arn, namespaceId: n.arn.split('/').pop(), namespaceName: n.name, status: 'AVAILABLE' }));
      return reply(res, 200, JSON_TYPE, JSON.stringify({ namespaces, ...(nextToken ? { nextToken } : {}) }));
    }
    if (action === 'ListWorkgroups') {
      const { items, nextToken } = this.page(this.workgroups, params);
      const workgroups = items.map((w) => ({
        workgroupName: w.name,
        namespaceName: w.namespaceName,
        status: 'AVAILABLE',
        ...(w.address === undefined ? {} : { endpoint: { address: w.address, port: w.port, vpcEndpoints: [] } }),
      }));
      return reply(res, 200, JSON_TYPE, JSON.stringify({ workgroups, ...(nextToken ? { nextToken } : {}) }));
    }
    reply(res, 400, JSON_TYPE, jsonError('UnknownOperationException', 'not implemented by the local endpoint'));
  }

  /** A page of `list` from the offset in `nextToken`, at most `maxResults` (1 to 100) and {@link pageSize} items. */
  private page<T>(list: readonly T[], params: Record<string, unknown>): { items: T[]; nextToken?: string } {
    const start = typeof params.nextToken === 'string' ? Number(Buffer.from(params.nextToken, 'base64url').toString('utf8')) : 0;
    const max = typeof params.maxResults === 'number' ? params.maxResults : 100;
    const end = start + Math.min(max, this.pageSize);
    const nextToken = end < list.length ? Buffer.from(String(end), 'utf8').toString('base64url') : undefined;
    return { items: list.slice(start, end), nextToken };
  }

  private hold(action: string, res: http.ServerResponse): boolean {
    if (!this.hanging.has(action)) return false;
    this.pending.add(res);
    res.on('close', () => this.pending.delete(res));
    return true;
  }
}

const XMLNS = 'http://redshift.amazonaws.com/doc/2012-12-01/';
const JSON_TYPE = 'application/x-amz-json-1.1';

function reply(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': randomUUID() });
  res.end(body);
}

function queryError(code: string, type: 'Sender' | 'Receiver', message: string): string {
  return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error>`
    + `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function jsonError(type: string, message: string): string {
  return JSON.stringify({ __type: type, message });
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
