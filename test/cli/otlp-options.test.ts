import { expect } from 'chai';
import { otlpSetup } from '../../src/cli/otlp-options.js';
import { UsageError } from '../../src/core/errors.js';

describe('cli/otlp-options', () => {
  it('takes --otlp-endpoint first, then $GAMEDAY_OTLP_ENDPOINT, then $OTEL_EXPORTER_OTLP_ENDPOINT, and exports nowhere without one', () => {
    const env = { GAMEDAY_OTLP_ENDPOINT: 'http://gameday:4318', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/' };
    expect(otlpSetup({ otlpEndpoint: 'http://flag:4318' }, env)?.url).to.equal('http://flag:4318/v1/traces');
    expect(otlpSetup({}, env)?.url).to.equal('http://gameday:4318/v1/traces');
    expect(otlpSetup({}, { ...env, GAMEDAY_OTLP_ENDPOINT: '' })?.url).to.equal('http://otel:4318/v1/traces');
    expect(otlpSetup({}, {})).to.equal(undefined);
  });

  it('keeps a path the collector is served under, and a URL that already names /v1/traces', () => {
    expect(otlpSetup({ otlpEndpoint: 'https://collector.example/otlp' }, {})?.url).to.equal('https://collector.example/otlp/v1/traces');
    expect(otlpSetup({ otlpEndpoint: 'http://localhost:4318/v1/traces' }, {})?.url).to.equal('http://localhost:4318/v1/traces');
  });

  it('reads headers from --otlp-header, or else from $OTEL_EXPORTER_OTLP_HEADERS (URL-encoded)', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20YWJj, x-team=sre' };
    expect(otlpSetup({}, env)?.headers).to.deep.equal({ authorization: 'Basic YWJj', 'x-team': 'sre' });
    expect(otlpSetup({ otlpHeader: ['authorization=Bearer a=b'] }, env)?.headers).to.deep.equal({ authorization: 'Bearer a=b' });
  });

  it('refuses, naming the source and the fix: a URL that is not http(s), a header without a name, a header with no endpoint', () => {
    expect(() => otlpSetup({}, { GAMEDAY_OTLP_ENDPOINT: 'localhost:4318' })).to.throw(UsageError, '$GAMEDAY_OTLP_ENDPOINT localhost:4318: an OTLP/HTTP endpoint is an http:// or https:// URL; give the collector');
    expect(() => otlpSetup({ otlpEndpoint: 'http://x', otlpHeader: ['=v'] }, {})).to.throw(UsageError, '--otlp-header =v: give a header as name=value');
    expect(() => otlpSetup({ otlpHeader: ['a=b'] }, {})).to.throw(UsageError, '--otlp-header is for the OTLP export');
  });
});
