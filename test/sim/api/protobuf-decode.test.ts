import { expect } from 'chai';
import { ApiError } from '../../../src/sim/api/api-error.js';
import { ProtobufWriter } from '../../../src/sim/api/openapi/protobuf-writer.js';
import { decodeKubernetesProtobuf } from '../../../src/sim/api/protobuf/decode.js';
import { goDuration } from '../../../src/sim/go-duration.js';

/**
 * Request bodies in Kubernetes' protobuf encoding, written here field by field with the numbers
 * of upstream's generated.proto (k8s.io/api v0.34), so each of the decoder's rules is checked on
 * the wire form a Go client sends. test/sim/protobuf-requests.test.ts checks it against kubectl.
 */
function envelope(apiVersion: string, kind: string, object: (w: ProtobufWriter) => void): Buffer {
  const w = new ProtobufWriter();
  w.message(1, (t) => {
    t.string(1, apiVersion);
    t.string(2, kind);
  });
  w.message(2, object);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), w.finish()]);
}

const ZERO_TIME = -62135596800;

describe('protobuf request bodies', () => {
  it('reads a Pod: a zero time left out, labels as a map, an inline VolumeSource and ProbeHandler merged, IntOrString as the string it holds', () => {
    const body = envelope('v1', 'Pod', (pod) => {
      pod.message(1, (meta) => {
        meta.string(1, 'web');
        meta.message(8, (time) => time.int64(1, ZERO_TIME));
        meta.message(11, (entry) => {
          entry.string(1, 'app');
          entry.string(2, 'web');
        });
      });
      pod.message(2, (spec) => {
        spec.message(1, (volume) => {
          volume.string(1, 'scratch');
          volume.message(2, (source) => source.message(2, () => undefined));
        });
        spec.message(2, (container) => {
          container.string(1, 'web');
          container.string(2, 'gameday/web:1');
          container.message(6, (port) => port.int64(3, 8080));
          container.message(11, (probe) => {
            probe.message(1, (handler) =>
              handler.message(2, (get) => {
                get.string(1, '/readyz');
                get.message(2, (port) => {
                  port.int64(1, 1);
                  port.string(3, 'http');
                });
              }),
            );
            probe.int64(4, 1);
          });
        });
      });
    });
    expect(decodeKubernetesProtobuf(body)).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        volumes: [{ name: 'scratch', emptyDir: {} }],
        containers: [{ name: 'web', image: 'gameday/web:1', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 } }],
      },
    });
  });

  it("reads a SubjectAccessReview's extra as lists (ExtraValue) and an events.k8s.io Event's MicroTime with its microseconds", () => {
    const review = envelope('authorization.k8s.io/v1', 'SubjectAccessReview', (sar) =>
      sar.message(2, (spec) => {
        spec.message(1, (attrs) => {
          attrs.string(1, 'shop');
          attrs.string(2, 'get');
        });
        spec.string(3, 'alice');
        spec.repeatedString(4, 'devs');
        spec.message(5, (entry) => {
          entry.string(1, 'scopes');
          entry.message(2, (items) => {
            items.repeatedString(1, 'a');
            items.repeatedString(1, 'b');
          });
        });
      }),
    );
    expect(decodeKubernetesProtobuf(review)).to.deep.include({ spec: { resourceAttributes: { namespace: 'shop', verb: 'get' }, user: 'alice', groups: ['devs'], extra: { scopes: ['a', 'b'] } } });
    const event = envelope('events.k8s.io/v1', 'Event', (e) =>
      e.message(2, (time) => {
        time.int64(1, Date.UTC(2026, 10, 29, 17, 30, 5) / 1000);
        time.int64(2, 123_456_789);
      }),
    );
    expect(decodeKubernetesProtobuf(event)).to.deep.include({ eventTime: '2026-11-29T17:30:05.123456Z' });
  });

  it("keeps a pointer's zero (DeleteOptions' gracePeriodSeconds 0) and reads options sent under any group version as meta.k8s.io's", () => {
    const options = envelope('v1', 'DeleteOptions', (o) => o.string(4, 'Foreground'));
    expect(decodeKubernetesProtobuf(options)).to.deep.equal({ apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground' });
    // A Go client writes a set pointer even when it holds zero: field 1, varint 0.
    const typeMeta = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from('v1'), Buffer.from([0x12, 13]), Buffer.from('DeleteOptions')]);
    const zeroGrace = Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, typeMeta.length]), typeMeta, Buffer.from([0x12, 2, 0x08, 0x00])]);
    expect(decodeKubernetesProtobuf(zeroGrace)).to.deep.equal({ apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
  });

  it('refuses a body without the k8s\\0 prefix, a kind it has no message for, and a truncated field, with 400 and what is wrong', () => {
    const refusal = (body: Buffer): string => {
      try {
        decodeKubernetesProtobuf(body);
      } catch (err) {
        expect(err).to.be.instanceOf(ApiError);
        return `${(err as ApiError).code} ${(err as ApiError).message}`;
      }
      throw new Error('decoded');
    };
    expect(refusal(Buffer.from('{"kind":"Pod"}'))).to.equal('400 the object provided is unrecognized: it does not start with the protobuf prefix k8s\\0');
    expect(refusal(envelope('example.com/v1', 'Widget', (w) => w.string(1, 'x')))).to.equal('400 the object provided is unrecognized: no protobuf message is known for example.com/v1 Widget');
    const whole = envelope('v1', 'ConfigMap', (cm) => cm.message(1, (meta) => meta.string(1, 'settings')));
    expect(refusal(whole.subarray(0, whole.length - 3))).to.equal('400 the object provided is unrecognized: a field runs past the end');
  });

  it("writes durations as Go's time.Duration.String does", () => {
    expect([0, 1_500, 250e6, 1.5e9, 90e9, 3600e9, 3723.5e9].map(goDuration)).to.deep.equal(['0s', '1.5µs', '250ms', '1.5s', '1m30s', '1h0m0s', '1h2m3.5s']);
  });
});
