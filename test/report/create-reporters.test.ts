import { expect } from 'chai';
import { UsageError } from '../../src/core/errors.js';
import { createReporters, reporterNames } from '../../src/report/index.js';
import { TextSink } from './fixture-journals.js';

describe('report/createReporters', () => {
  it('builds terminal, json, junit, summary and html by default', () => {
    expect(createReporters(undefined, { stream: new TextSink() }).map((r) => r.name)).to.deep.equal(['terminal', 'json', 'junit', 'summary', 'html']);
  });

  it('builds the named reporters in the order given, once each', () => {
    expect(createReporters(['junit', 'json', 'junit']).map((r) => r.name)).to.deep.equal(['junit', 'json']);
    expect(reporterNames()).to.include.members(['terminal', 'json', 'junit', 'summary']);
  });

  it('builds the otlp reporter only with somewhere to export to', () => {
    expect(() => createReporters(['json', 'otlp'])).to.throw(UsageError, 'the otlp reporter needs an endpoint: give --otlp-endpoint <url> or set $GAMEDAY_OTLP_ENDPOINT');
    expect(createReporters(['otlp'], { otlp: { url: 'http://127.0.0.1:4318/v1/traces' } }).map((r) => r.name)).to.deep.equal(['otlp']);
  });

  it('refuses an unknown name with a suggestion', () => {
    expect(() => createReporters(['json', 'junti'])).to.throw(UsageError, 'unknown reporter "junti"; did you mean "junit"?');
  });
});
